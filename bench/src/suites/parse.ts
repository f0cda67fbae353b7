import { createHash } from 'node:crypto';
// A relative import: bench does not list @kiln/dockerfile among its workspace dependencies yet.
import { parseDockerfile } from '@kiln/dockerfile';
import type { BenchCase, Suite } from '../framework/suite.ts';

const targetLines = 5000;

/**
 * A deterministic Dockerfile of about `lines` lines that uses what real ones do: stages, flags,
 * mounts, continuations with comments, heredocs, ENV/LABEL pairs with quotes, ARG, ONBUILD.
 */
export function generateDockerfile(lines: number): string {
  const out: string[] = ['# syntax=docker/dockerfile:1', '# check=skip=all', 'ARG BASE=debian:bookworm-slim'];
  for (let stage = 0; out.length < lines; stage++) {
    out.push(
      '',
      `# stage ${stage}`,
      `FROM --platform=$BUILDPLATFORM \${BASE} AS stage${stage}`,
      `ARG VERSION_${stage}=1.${stage}.0 TARGETOS TARGETARCH`,
      `ENV APP_HOME=/srv/app${stage} PATH="/srv/app${stage}/bin:$PATH" GREETING="hello \\"world\\""`,
      `LABEL org.opencontainers.image.title="stage ${stage}" org.opencontainers.image.version=\${VERSION_${stage}}`,
      `WORKDIR \${APP_HOME}`,
      `RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\`,
      '    --mount=type=bind,source=deps,target=/deps \\',
      '    apt-get update && \\',
      '    # tools for the build',
      '    apt-get install -y --no-install-recommends curl ca-certificates git && \\',
      '    rm -rf /var/lib/apt/lists/*',
      `COPY --from=stage${Math.max(0, stage - 1)} --chown=app:app --chmod=755 --link src/ lib/ \${APP_HOME}/`,
      'RUN <<EOF bash -e',
      `echo building stage ${stage}`,
      'make -j"$(nproc)" install',
      'EOF',
      `COPY <<-"CONFIG" /etc/app/${stage}.conf`,
      '\tlisten = 0.0.0.0:8080',
      '\tCONFIG',
      'EXPOSE 8080/tcp 9090',
      'HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD ["curl", "-f", "http://localhost:8080/health"]',
      'ONBUILD COPY . /src',
      'USER app:app',
      `ENTRYPOINT ["/srv/app${stage}/bin/server", "--port", "8080"]`,
      'CMD ["--verbose"]',
    );
  }
  return `${out.slice(0, lines).join('\n')}\n`;
}

function countLines(text: string): number {
  return text.split('\n').length;
}

/** Parsing speed: a generated 5,000-line Dockerfile, against splitting the same text into lines. */
export const parseSuite: Suite = {
  name: 'parse',
  description: 'parse a generated 5,000-line Dockerfile (target: under 50 ms)',
  cases: async () => {
    let text = generateDockerfile(targetLines);
    // Cut at an instruction boundary so the fixture always parses (no heredoc cut in half).
    while (!isComplete(text)) text = text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1);
    const bytes = Buffer.byteLength(text);
    const parseCase: BenchCase = {
      name: `parse/${targetLines}-lines`,
      baseline: {
        name: 'split into lines (floor)',
        run: async () => ({ bytes, extra: { lines: countLines(text) } }),
      },
      contenders: [
        {
          name: 'kiln parseDockerfile',
          run: async () => {
            const dockerfile = parseDockerfile(text, { fileName: 'bench.Dockerfile' });
            return { bytes, extra: { instructions: dockerfile.instructions.length } };
          },
        },
      ],
      targets: [{ contender: 'kiln parseDockerfile', maxMs: 50, note: 'under 50 ms for 5,000 lines' }],
    };
    return [parseCase];
  },
  fixtureHashes: async () => ({
    [`dockerfile-${targetLines}`]: createHash('sha256')
      .update(generateDockerfile(targetLines))
      .digest('hex')
      .slice(0, 16),
  }),
};

function isComplete(text: string): boolean {
  try {
    parseDockerfile(text);
    return true;
  } catch {
    return false;
  }
}
