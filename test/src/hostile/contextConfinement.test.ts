import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HostileContext, hostileBuild, writeContext } from './hostileBuild.ts';
import { useHostileEnvironment } from './hostileEnvironment.ts';
import { fingerprintTree } from './sentinelTree.ts';

// A context and its Dockerfile are untrusted: links in them, .dockerignore'd files and bind mounts
// must never read or change anything outside the context (or a stage's root).
const env = useHostileEnvironment('kiln-hostile-context-');
let before: string;

beforeAll(async () => {
  before = await env.sentinel.fingerprint();
});

async function build(name: string, context: HostileContext, extra: string[] = []) {
  const dir = await writeContext(join(env.work, name, 'context'), context);
  const result = await hostileBuild(
    dir,
    join(env.work, name, 'out'),
    env.base.reference,
    env.registry.host,
    extra,
  );
  const output = `${result.stdout}\n${result.stderr}`;
  // Whatever happened: no byte of the host secret anywhere, and the host tree as it was.
  expect(output).not.toContain(env.sentinel.secretText);
  expect(result.archive.includes(env.sentinel.secretText)).toBe(false);
  expect(await env.sentinel.fingerprint()).toBe(before);
  return { ...result, dir, output };
}

/** A failed build that names no host path (the sentinel's) in what it prints. */
function expectRefused(result: Awaited<ReturnType<typeof build>>, code: string) {
  expect(result.code, result.output).not.toBe(0);
  expect(result.errorCode, result.output).toBe(code);
  expect(result.errorText).not.toContain(env.sentinel.dir);
  // The host directory's entries are never listed, in the error or anywhere else.
  expect(result.output).not.toMatch(/plain\.txt|nested/);
}

describe('context links resolve inside the context', () => {
  it('COPY through a link to a host directory finds nothing', { timeout: 60_000 }, async () => {
    const result = await build('copy-link', {
      files: { Dockerfile: 'ARG BASE\nFROM $BASE\nCOPY hostdir/secret.txt /stolen\n' },
      links: { hostdir: env.sentinel.dir },
    });
    expectRefused(result, 'COPY_SOURCE_MISSING');
  });

  it('with a registry layer cache, whose look-ahead hashes COPY sources before the step, too', {
    timeout: 60_000,
  }, async () => {
    const result = await build(
      'copy-link-cached',
      {
        files: {
          Dockerfile: 'ARG BASE\nFROM $BASE\nCOPY hostdir/secret.txt /stolen\nCOPY hostdir/ /stolen-dir/\n',
        },
        links: { hostdir: env.sentinel.dir },
      },
      ['--cache', '--cache-repo', `${env.registry.host}/hostile/cache`],
    );
    expectRefused(result, 'COPY_SOURCE_MISSING');
  });

  it('a relative link climbing out of the context is clamped at its root', { timeout: 60_000 }, async () => {
    const result = await build('copy-climb', {
      files: { Dockerfile: 'ARG BASE\nFROM $BASE\nCOPY up/secret.txt /stolen\n' },
      links: { up: `${'../'.repeat(12)}${env.sentinel.dir.slice(1)}` },
    });
    expectRefused(result, 'COPY_SOURCE_MISSING');
  });

  it('a wildcard never lists a host directory through a link', { timeout: 60_000 }, async () => {
    const result = await build('copy-wildcard', {
      files: { Dockerfile: 'ARG BASE\nFROM $BASE\nCOPY hostdir/* /stolen/\n' },
      links: { hostdir: env.sentinel.dir },
    });
    expectRefused(result, 'COPY_SOURCE_MISSING');
  });

  it('COPY --from a stage follows its links inside that stage', { timeout: 60_000 }, async () => {
    const stage = `ARG BASE\nFROM $BASE AS st\nRUN ln -s ${env.sentinel.dir}/secret.txt /s && ln -s ${env.sentinel.dir} /d\n`;
    for (const [name, copy] of [
      ['from-link', 'COPY --from=st /s /stolen'],
      ['from-wildcard', 'COPY --from=st /d/* /stolen/'],
    ] as const) {
      const result = await build(name, { files: { Dockerfile: `${stage}FROM $BASE\n${copy}\n` } });
      expectRefused(result, 'COPY_SOURCE_MISSING');
    }
  });

  it('COPY into a link the stage left lands inside the stage root', { timeout: 60_000 }, async () => {
    const result = await build('dest-link', {
      files: {
        Dockerfile: `ARG BASE\nFROM $BASE\nRUN ln -s ${env.sentinel.dir} /out && ln -s /made/by/link /deep\nCOPY payload.txt /out/secret.txt\nCOPY payload.txt /out/nested/deeper/file\nCOPY payload.txt /deep/x\n`,
        'payload.txt': 'overwritten\n',
      },
    });
    expect(result.code, result.output).toBe(0);
    // The copies are in the image, under the link's target as the image sees it.
    expect(result.archive.includes(`${env.sentinel.dir.slice(1)}/secret.txt`)).toBe(true);
    expect(result.archive.includes('made/by/link/x')).toBe(true);
  });

  it('a .dockerignore that links to a host file is not read from the host', { timeout: 60_000 }, async () => {
    // A host file that, read as .dockerignore, would fail to parse and be quoted in the error.
    const hostFile = join(env.work, 'host-ignore');
    await writeFile(hostFile, `[${env.sentinel.secretText}\n`);
    const result = await build('ignore-link', {
      files: { Dockerfile: 'ARG BASE\nFROM $BASE\nCOPY app.txt /app.txt\n', 'app.txt': 'app\n' },
      links: { '.dockerignore': hostFile },
    });
    expect(result.code, result.output).toBe(0);
  });

  it('a Dockerfile that links to a host file is not read from the host', { timeout: 60_000 }, async () => {
    const result = await build('dockerfile-link', {
      links: { Dockerfile: join(env.sentinel.dir, 'secret.txt') },
    });
    expectRefused(result, 'DOCKERFILE_NOT_FOUND');
    expect(result.output).not.toContain(env.sentinel.dir);
  });
});

describe('bind mounts of the context', () => {
  const ignored = `context-only-secret-${process.pid}`;
  const files = {
    '.dockerignore': '.env\nkeys/\n',
    '.env': `${ignored}\n`,
    'keys/id_rsa': `${ignored}\n`,
    'app.txt': 'app\n',
  };

  it('show only the .dockerignore-filtered context; rw binds leave it unchanged', {
    timeout: 90_000,
  }, async () => {
    const dockerfile = [
      'ARG BASE',
      'FROM $BASE',
      'RUN --mount=type=bind,target=/ctx cat /ctx/.env /ctx/keys/id_rsa > /seen 2>&1; ls -a /ctx > /listing; true',
      'RUN --mount=type=bind,target=/ctx,rw echo changed > /ctx/app.txt && rm -rf /ctx/keys && echo new > /ctx/new.txt && cat /ctx/.env >> /seen 2>&1; true',
      'RUN --mount=type=bind,source=app.txt,target=/app.txt,rw echo changed > /app.txt',
      '',
    ].join('\n');
    const contextDir = join(env.work, 'bind', 'context');
    await writeContext(contextDir, { files: { ...files, Dockerfile: dockerfile } });
    const contextBefore = await fingerprintTree(contextDir);
    const result = await build('bind', { files: {} });
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toContain(ignored);
    expect(result.archive.includes(ignored)).toBe(false);
    expect(result.archive.includes('app.txt\n')).toBe(true);
    expect(await fingerprintTree(contextDir)).toBe(contextBefore);
  });

  it('an ignored file named as the source is not there', { timeout: 60_000 }, async () => {
    const result = await build('bind-source', {
      files: {
        ...files,
        Dockerfile: 'ARG BASE\nFROM $BASE\nRUN --mount=type=bind,source=.env,target=/e cat /e\n',
      },
    });
    expect(result.output).not.toContain(ignored);
    expect(result.errorCode, result.output).toBe('MOUNT_SOURCE_MISSING');
  });
});
