import { describe, expect, it } from 'vitest';
import type { Instruction } from './ast.ts';
import { heredocNameOf } from './heredocSyntax.ts';
import { parseDockerfile } from './parseDockerfile.ts';

/** Parses `FROM scratch` followed by `text` and returns the instructions after the FROM. */
function parseAfterFrom(text: string): Instruction[] {
  return parseDockerfile(`FROM scratch\n${text}`).instructions.slice(1);
}

function only(text: string): Instruction {
  const [instruction, ...others] = parseAfterFrom(text);
  expect(others).toEqual([]);
  return instruction!;
}

describe('parseDockerfile: file structure', () => {
  it('parses directives, comments, blank lines and positions', () => {
    const text =
      '# syntax=docker/dockerfile:1\n# CHECK = skip=all\n\n# a comment\n  FROM alpine\n\nRUN true\n';
    expect(parseDockerfile(text, { fileName: 'Dockerfile' })).toEqual({
      fileName: 'Dockerfile',
      directives: [
        { name: 'syntax', value: 'docker/dockerfile:1', line: 1 },
        { name: 'check', value: 'skip=all', line: 2 },
      ],
      escape: '\\',
      instructions: [
        { kind: 'FROM', startLine: 5, endLine: 5, raw: '  FROM alpine', flags: [], image: 'alpine' },
        {
          kind: 'RUN',
          startLine: 7,
          endLine: 7,
          raw: 'RUN true',
          flags: [],
          form: 'shell',
          command: 'true',
          heredocs: [],
          mounts: [],
        },
      ],
    });
  });

  it('treats a directive after a comment, a blank line or an instruction as a comment', () => {
    expect(parseDockerfile('# hello\n# escape=`\nFROM a\n').directives).toEqual([]);
    expect(parseDockerfile('\n# escape=`\nFROM a\n').directives).toEqual([]);
    expect(parseDockerfile('FROM a\n# syntax=x\n').directives).toEqual([]);
    // An unknown directive is a comment and ends the directives.
    expect(parseDockerfile('# foo=bar\n# syntax=x\nFROM a\n').directives).toEqual([]);
  });

  it('switches the escape character to backtick', () => {
    const dockerfile = parseDockerfile('# escape=`\nFROM a\nRUN echo c:\\dir `\n  next\n');
    expect(dockerfile.escape).toBe('`');
    expect(dockerfile.instructions[1]).toMatchObject({
      command: 'echo c:\\dir   next',
      startLine: 3,
      endLine: 4,
    });
  });

  it('rejects a repeated directive and a bad escape value', () => {
    expect(() => parseDockerfile('# syntax=a\n# SYNTAX=b\nFROM a\n')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_DIRECTIVE', line: 2 }),
    );
    expect(() => parseDockerfile('# escape=x\nFROM a\n')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_DIRECTIVE', line: 1 }),
    );
  });

  it('joins continuations, skipping comments and blank lines inside them', () => {
    const [run] = parseAfterFrom(
      'RUN apt-get update && \\\n  # install\n\n    apt-get install -y \\\t\n curl\n',
    );
    expect(run).toEqual({
      kind: 'RUN',
      startLine: 2,
      endLine: 6,
      raw: 'RUN apt-get update && \\\n  # install\n\n    apt-get install -y \\\t\n curl',
      flags: [],
      form: 'shell',
      command: 'apt-get update &&     apt-get install -y  curl',
      heredocs: [],
      mounts: [],
    });
  });

  it('accepts a continuation at the end of the file, CRLF line ends and a BOM', () => {
    expect(only('WORKDIR /app \\')).toMatchObject({ kind: 'WORKDIR', value: '/app', endLine: 2 });
    const dockerfile = parseDockerfile('\uFEFFFROM a\r\nUSER me\r\n');
    expect(dockerfile.instructions[1]).toMatchObject({ kind: 'USER', value: 'me', startLine: 2 });
  });

  it('does not continue a line that ends with an escaped escape character', () => {
    expect(parseAfterFrom('RUN echo c:\\\\\nUSER me').map((instruction) => instruction.kind)).toEqual([
      'RUN',
      'USER',
    ]);
    expect(only('RUN echo c:\\\\')).toMatchObject({ command: 'echo c:\\\\' });
  });

  it('is case-insensitive for instructions', () => {
    expect(only('workdir /x')).toMatchObject({ kind: 'WORKDIR', value: '/x' });
  });
});

describe('parseDockerfile: instructions', () => {
  it('FROM with platform and stage name', () => {
    expect(parseDockerfile('FROM --platform=linux/arm64 golang:1.22 AS Build').instructions).toEqual([
      {
        kind: 'FROM',
        startLine: 1,
        endLine: 1,
        raw: 'FROM --platform=linux/arm64 golang:1.22 AS Build',
        flags: [{ name: 'platform', value: 'linux/arm64', line: 1 }],
        image: 'golang:1.22',
        platform: 'linux/arm64',
        stageName: 'build',
      },
    ]);
  });

  it('RUN, CMD and ENTRYPOINT in exec and shell form; malformed JSON falls back to shell form', () => {
    expect(only('CMD ["node", "server.js"]')).toEqual({
      kind: 'CMD',
      startLine: 2,
      endLine: 2,
      raw: 'CMD ["node", "server.js"]',
      flags: [],
      form: 'exec',
      args: ['node', 'server.js'],
      heredocs: [],
    });
    expect(only("ENTRYPOINT ['single', 'quotes']")).toEqual({
      kind: 'ENTRYPOINT',
      startLine: 2,
      endLine: 2,
      raw: "ENTRYPOINT ['single', 'quotes']",
      flags: [],
      form: 'shell',
      command: "['single', 'quotes']",
      heredocs: [],
    });
    expect(only('CMD []')).toMatchObject({ form: 'exec', args: [] });
    // BuildKit decodes the first JSON value and ignores what follows it.
    expect(only('ENTRYPOINT ["a", "b"] trailing')).toMatchObject({ form: 'exec', args: ['a', 'b'] });
    expect(only('RUN ["a", "b"')).toMatchObject({ form: 'shell', command: '["a", "b"' });
  });

  it('rejects a JSON array that holds something other than strings', () => {
    expect(() => parseAfterFrom('CMD ["a", 1]')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_ARGUMENTS' }),
    );
  });

  it('RUN flags: mounts of every type, network, security', () => {
    const run = only(
      'RUN --mount=type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0755,uid=1000,gid=1000 \\\n' +
        '    --mount=type=bind,source=src,target=/src,from=build,rw \\\n' +
        '    --mount=type=tmpfs,dst=/tmp,size=64m --mount=type=secret,id=npmrc,target=/root/.npmrc,required \\\n' +
        '    --mount=type=secret,src=token,env=TOKEN --mount=type=ssh,id=default,required=false \\\n' +
        '    --mount=target=/ro --network=none --security=insecure make',
    );
    expect(run).toMatchObject({
      kind: 'RUN',
      form: 'shell',
      command: 'make',
      network: 'none',
      security: 'insecure',
      mounts: [
        {
          type: 'cache',
          target: '/root/.cache',
          id: 'pip',
          sharing: 'locked',
          readonly: false,
          mode: '0755',
          uid: '1000',
          gid: '1000',
        },
        { type: 'bind', target: '/src', source: 'src', from: 'build', readonly: false },
        { type: 'tmpfs', target: '/tmp', size: '64m' },
        { type: 'secret', id: 'npmrc', target: '/root/.npmrc', required: true },
        { type: 'secret', id: 'token', env: 'TOKEN', required: false },
        { type: 'ssh', id: 'default', required: false },
        { type: 'bind', target: '/ro', readonly: true },
      ],
    });
    expect(run.flags.map((flag) => [flag.name, flag.line])).toEqual([
      ['mount', 2],
      ['mount', 3],
      ['mount', 4],
      ['mount', 4],
      ['mount', 5],
      ['mount', 5],
      ['mount', 6],
      ['network', 6],
      ['security', 6],
    ]);
  });

  it('rejects malformed mounts and flag values', () => {
    for (const line of [
      'RUN --mount=type=nfs,target=/x true',
      'RUN --mount=type=cache true',
      'RUN --mount=type=cache,target=/x,bogus=1 true',
      'RUN --mount=type=bind,target=/x,sharing=locked true',
      'RUN --mount=type=cache,target=/x,mode=999 true',
      'RUN --network=bridge true',
      'RUN --mount true',
      'COPY --link=maybe a b',
      'COPY --from=a --from=b a b',
      'FROM --platform a',
    ]) {
      expect(() => parseAfterFrom(line), line).toThrow(
        expect.objectContaining({ code: 'DOCKERFILE_INVALID_FLAG' }),
      );
    }
  });

  it('rejects an unknown flag with the instruction, file and line in the message', () => {
    expect(() =>
      parseDockerfile('FROM a\nCOPY --form=build . /app\n', { fileName: 'ci/Dockerfile' }),
    ).toThrow(
      expect.objectContaining({
        code: 'DOCKERFILE_INVALID_FLAG',
        line: 2,
        message:
          'ci/Dockerfile:2: unknown flag --form (COPY accepts --from, --chown, --chmod, --link, --parents, --exclude): "COPY --form=build . /app"',
      }),
    );
    expect(() => parseAfterFrom('ENV --x=1')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_FLAG' }),
    );
  });

  it('COPY and ADD with every flag, exec and shell form', () => {
    expect(
      only(
        'COPY --from=build --chown=app:app --chmod=644 --link --parents --exclude=*.md --exclude=.git a b /dst/',
      ),
    ).toEqual({
      kind: 'COPY',
      startLine: 2,
      endLine: 2,
      raw: 'COPY --from=build --chown=app:app --chmod=644 --link --parents --exclude=*.md --exclude=.git a b /dst/',
      flags: [
        { name: 'from', value: 'build', line: 2 },
        { name: 'chown', value: 'app:app', line: 2 },
        { name: 'chmod', value: '644', line: 2 },
        { name: 'link', value: undefined, line: 2 },
        { name: 'parents', value: undefined, line: 2 },
        { name: 'exclude', value: '*.md', line: 2 },
        { name: 'exclude', value: '.git', line: 2 },
      ],
      sources: ['a', 'b'],
      destination: '/dst/',
      heredocs: [],
      form: 'shell',
      options: {
        from: 'build',
        chown: 'app:app',
        chmod: '644',
        link: true,
        parents: true,
        exclude: ['*.md', '.git'],
      },
    });
    expect(
      only(
        'ADD --checksum=sha256:abc --keep-git-dir=true --link=false --unpack=false --parents ["my file", "/dst dir/"]',
      ),
    ).toMatchObject({
      kind: 'ADD',
      sources: ['my file'],
      destination: '/dst dir/',
      form: 'exec',
      options: {
        checksum: 'sha256:abc',
        keepGitDir: true,
        link: false,
        unpack: false,
        exclude: [],
        parents: true,
      },
    });
    expect(() => parseAfterFrom('COPY onlyone')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_MISSING_ARGUMENTS' }),
    );
    expect(() => parseAfterFrom('COPY a <<EOF\nx\nEOF')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_ARGUMENTS' }),
    );
  });

  it('ENV and LABEL in both forms, with quotes and escapes kept for expansion', () => {
    expect(only('ENV A=1 B="two words" C=three\\ words D=')).toMatchObject({
      kind: 'ENV',
      pairs: [
        { key: 'A', value: '1' },
        { key: 'B', value: '"two words"' },
        { key: 'C', value: 'three\\ words' },
        { key: 'D', value: '' },
      ],
    });
    expect(only('ENV PATH /usr/local/bin:$PATH  with spaces')).toMatchObject({
      pairs: [{ key: 'PATH', value: '/usr/local/bin:$PATH  with spaces' }],
    });
    expect(only('LABEL org.opencontainers.image.title="Kiln" "quoted key"=v')).toMatchObject({
      kind: 'LABEL',
      pairs: [
        { key: 'org.opencontainers.image.title', value: '"Kiln"' },
        { key: '"quoted key"', value: 'v' },
      ],
    });
  });

  it('rejects ENV without a value', () => {
    expect(() => parseDockerfile('FROM a\nENV DEBUG\n', { fileName: 'Dockerfile' })).toThrow(
      expect.objectContaining({
        code: 'DOCKERFILE_MISSING_VALUE',
        message:
          'Dockerfile:2: ENV DEBUG has no value (expected ENV DEBUG=value or ENV DEBUG value): "ENV DEBUG"',
      }),
    );
    expect(() => parseAfterFrom('LABEL a=1 b')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_MISSING_VALUE' }),
    );
    expect(() => parseAfterFrom('ENV')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_MISSING_ARGUMENTS' }),
    );
  });

  it('rejects a blank ARG name and an empty VOLUME path', () => {
    expect(() => parseAfterFrom('ARG =x')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_ARGUMENTS' }),
    );
    expect(() => parseAfterFrom('VOLUME ["/a", " "]')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_ARGUMENTS' }),
    );
  });

  it('ARG with and without defaults', () => {
    expect(only('ARG VERSION=1.2 TARGETOS NAME="a b"')).toMatchObject({
      kind: 'ARG',
      args: [
        { name: 'VERSION', defaultValue: '1.2' },
        { name: 'TARGETOS' },
        { name: 'NAME', defaultValue: '"a b"' },
      ],
    });
  });

  it('EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, MAINTAINER, SHELL', () => {
    expect(
      parseAfterFrom(
        'EXPOSE 80/tcp 53/udp\nVOLUME ["/data", "/var/log"]\nVOLUME /a /b\nUSER app:app\nWORKDIR /srv/app\n' +
          'STOPSIGNAL SIGTERM\nMAINTAINER Jane <j@x.org>\nSHELL ["pwsh", "-c"]',
      ).map((instruction) => ({ ...instruction, raw: undefined, startLine: undefined, endLine: undefined })),
    ).toEqual([
      { kind: 'EXPOSE', flags: [], values: ['80/tcp', '53/udp'] },
      { kind: 'VOLUME', flags: [], values: ['/data', '/var/log'] },
      { kind: 'VOLUME', flags: [], values: ['/a', '/b'] },
      { kind: 'USER', flags: [], value: 'app:app' },
      { kind: 'WORKDIR', flags: [], value: '/srv/app' },
      { kind: 'STOPSIGNAL', flags: [], value: 'SIGTERM' },
      { kind: 'MAINTAINER', flags: [], value: 'Jane <j@x.org>' },
      { kind: 'SHELL', flags: [], args: ['pwsh', '-c'] },
    ]);
    expect(() => parseAfterFrom('SHELL /bin/sh -c')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_ARGUMENTS' }),
    );
    expect(() => parseAfterFrom('USER')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_MISSING_ARGUMENTS' }),
    );
  });

  it('HEALTHCHECK NONE and CMD with options', () => {
    expect(only('HEALTHCHECK NONE')).toEqual({
      kind: 'HEALTHCHECK',
      startLine: 2,
      endLine: 2,
      raw: 'HEALTHCHECK NONE',
      flags: [],
      type: 'NONE',
    });
    expect(
      only(
        'HEALTHCHECK --interval=30s --timeout=1m30s --start-period=5s --start-interval=1s --retries=3 CMD curl -f http://x/',
      ),
    ).toMatchObject({
      type: 'CMD',
      options: { interval: '30s', timeout: '1m30s', startPeriod: '5s', startInterval: '1s', retries: 3 },
      form: 'shell',
      command: 'curl -f http://x/',
    });
    expect(() => parseAfterFrom('HEALTHCHECK --interval=soon CMD true')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_FLAG' }),
    );
    expect(() => parseAfterFrom('HEALTHCHECK PING x')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_ARGUMENTS' }),
    );
  });

  it('ONBUILD wraps another instruction, but not ONBUILD, FROM or MAINTAINER', () => {
    expect(only('ONBUILD COPY --chown=app . /app')).toEqual({
      kind: 'ONBUILD',
      startLine: 2,
      endLine: 2,
      raw: 'ONBUILD COPY --chown=app . /app',
      flags: [],
      instruction: {
        kind: 'COPY',
        startLine: 2,
        endLine: 2,
        raw: 'COPY --chown=app . /app',
        flags: [{ name: 'chown', value: 'app', line: 2 }],
        sources: ['.'],
        destination: '/app',
        heredocs: [],
        form: 'shell',
        options: { chown: 'app', link: false, parents: false, exclude: [] },
      },
    });
    for (const inner of ['ONBUILD RUN x', 'FROM a', 'MAINTAINER me']) {
      expect(() => parseAfterFrom(`ONBUILD ${inner}`)).toThrow(
        expect.objectContaining({ code: 'DOCKERFILE_INVALID_ONBUILD' }),
      );
    }
  });
});

describe('heredocNameOf', () => {
  it('names the heredoc a COPY/ADD source word is, as BuildKit parses it', () => {
    expect(heredocNameOf('<<EOF')).toBe('EOF');
    expect(heredocNameOf('<<END-OF')).toBe('END-OF');
    expect(heredocNameOf('<<"q-name"')).toBe('q-name');
    expect(heredocNameOf("<<-'T'")).toBe('T');
    expect(heredocNameOf('file.txt')).toBeUndefined();
    expect(heredocNameOf('a<<b')).toBeUndefined();
  });
});

describe('parseDockerfile: heredocs', () => {
  it('reads several heredocs on one line, quoted delimiters and <<- chomping', () => {
    const [copy] = parseAfterFrom('COPY <<-"A" 3<<B /dst/\n\tx $y\n\tA\nb\nB\nUSER me\n');
    expect(copy).toEqual({
      kind: 'COPY',
      startLine: 2,
      endLine: 6,
      raw: 'COPY <<-"A" 3<<B /dst/\n\tx $y\n\tA\nb\nB',
      flags: [],
      sources: ['<<-"A"', '3<<B'],
      destination: '/dst/',
      heredocs: [
        { name: 'A', content: 'x $y\n', expand: false, chomp: true, startLine: 3, endLine: 4 },
        {
          name: 'B',
          content: 'b\n',
          expand: true,
          chomp: false,
          fileDescriptor: 3,
          startLine: 5,
          endLine: 6,
        },
      ],
      form: 'shell',
      options: { link: false, parents: false, exclude: [] },
    });
  });

  it('RUN with a heredoc keeps the command line and the body', () => {
    expect(only("RUN <<'EOF' bash -e\n# not a comment\n\necho hi \\\nEOF")).toMatchObject({
      command: "<<'EOF' bash -e",
      heredocs: [
        {
          name: 'EOF',
          content: '# not a comment\n\necho hi \\\n',
          expand: false,
          chomp: false,
          startLine: 3,
          endLine: 6,
        },
      ],
      endLine: 6,
    });
  });

  it('finds heredoc names as BuildKit does: quoted parts, escapes, spaces after <<, unset variables', () => {
    const heredocsOf = (line: string, body: string) => {
      const instruction = parseAfterFrom(`${line}\n${body}`)[0]!;
      return 'heredocs' in instruction
        ? instruction.heredocs.map(({ name, expand }) => ({ name, expand }))
        : [];
    };
    expect(heredocsOf("RUN <<eo'f'", 'eof')).toEqual([{ name: 'eof', expand: false }]);
    expect(heredocsOf("RUN <<eo\\'f", "eo'f")).toEqual([{ name: "eo'f", expand: true }]);
    expect(heredocsOf("RUN <<'one two'", 'one two')).toEqual([{ name: 'one two', expand: false }]);
    expect(heredocsOf('RUN <<$EOF', '$EOF')).toEqual([{ name: '$EOF', expand: true }]);
    expect(heredocsOf('RUN <<  EOF  > foo', 'EOF')).toEqual([{ name: 'EOF', expand: true }]);
    expect(heredocsOf('RUN << -EOF', '-EOF')).toEqual([{ name: '-EOF', expand: true }]);
    expect(heredocsOf('RUN "<<NOHEREDOC"', 'USER me')).toEqual([]);
    expect(heredocsOf('RUN <<EOF <<EOF2 cat', 'a\nEOF\nb\nEOF2')).toEqual([
      { name: 'EOF', expand: true },
      { name: 'EOF2', expand: true },
    ]);
  });

  it('ADD takes heredocs too', () => {
    expect(only('ADD --chmod=600 <<KEY /root/.ssh/key\nsecret\nKEY')).toMatchObject({
      kind: 'ADD',
      sources: ['<<KEY'],
      destination: '/root/.ssh/key',
      heredocs: [{ name: 'KEY', content: 'secret\n', expand: true, chomp: false, startLine: 3, endLine: 4 }],
      options: { chmod: '600' },
    });
  });

  it('attaches heredocs of ONBUILD RUN to the wrapped instruction', () => {
    expect(only('ONBUILD RUN <<EOF\necho hi\nEOF')).toEqual({
      kind: 'ONBUILD',
      startLine: 2,
      endLine: 4,
      raw: 'ONBUILD RUN <<EOF\necho hi\nEOF',
      flags: [],
      instruction: {
        kind: 'RUN',
        startLine: 2,
        endLine: 4,
        raw: 'RUN <<EOF\necho hi\nEOF',
        flags: [],
        form: 'shell',
        command: '<<EOF',
        heredocs: [
          { name: 'EOF', content: 'echo hi\n', expand: true, chomp: false, startLine: 3, endLine: 4 },
        ],
        mounts: [],
      },
    });
  });

  it('ignores << in exec form and in instructions without heredocs', () => {
    expect(only('RUN ["cat", "<<EOF"]')).toMatchObject({ form: 'exec', heredocs: [] });
    expect(only('CMD cat <<EOF')).toMatchObject({ form: 'shell', command: 'cat <<EOF', heredocs: [] });
  });

  it('rejects an unterminated heredoc', () => {
    expect(() => parseDockerfile('FROM a\nRUN <<EOF\necho\n', { fileName: 'Dockerfile' })).toThrow(
      expect.objectContaining({
        code: 'DOCKERFILE_UNTERMINATED_HEREDOC',
        line: 2,
        message:
          'Dockerfile:2: heredoc <<EOF is not terminated (expected a line "EOF" before the end of the file): "RUN <<EOF"',
      }),
    );
  });
});

describe('parseDockerfile: errors', () => {
  it('rejects an unknown instruction', () => {
    expect(() => parseDockerfile('FROM a\n\nFORM b\n', { fileName: 'Dockerfile' })).toThrow(
      expect.objectContaining({
        code: 'DOCKERFILE_UNKNOWN_INSTRUCTION',
        line: 3,
        lineText: 'FORM b',
        fileName: 'Dockerfile',
        message: expect.stringMatching(
          /^Dockerfile:3: unknown instruction "FORM" \(expected one of FROM, RUN, .*\): "FORM b"$/,
        ),
      }),
    );
  });

  it('rejects an empty Dockerfile, or one with only comments', () => {
    for (const text of ['', '\n\n', '# syntax=x\n# just a comment\n']) {
      expect(() => parseDockerfile(text)).toThrow(expect.objectContaining({ code: 'DOCKERFILE_EMPTY' }));
    }
  });

  it('rejects an unterminated quote or a bad substitution where the instruction expands', () => {
    expect(() => parseAfterFrom('ENV A="unterminated')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_UNTERMINATED_QUOTE', line: 2 }),
    );
    expect(() => parseAfterFrom("WORKDIR '/app")).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_UNTERMINATED_QUOTE' }),
    );
    expect(() => parseAfterFrom('COPY ${A a b')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_BAD_SUBSTITUTION' }),
    );
    // The shell checks RUN's quoting at build time, not the parser.
    expect(only('RUN echo "unterminated')).toMatchObject({ command: 'echo "unterminated' });
  });

  it('rejects FROM with a bad stage name or extra words', () => {
    expect(() => parseDockerfile('FROM a AS 1st')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_ARGUMENTS' }),
    );
    expect(() => parseDockerfile('FROM a b')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_INVALID_ARGUMENTS' }),
    );
  });
});
