import { exceptions, type NamedException } from './exceptions.ts';

/**
 * One Dockerfile built by Kiln and by Buildah from the same context. `BASE` is the busybox
 * fixture in the test registry; `exceptions` are the documented differences this case shows.
 */
export interface ConformanceCase {
  name: string;
  dockerfile: string;
  /** Context files (text), by relative path. */
  files: Record<string, string>;
  /** Files beside the Dockerfile, outside the context (`Dockerfile.dockerignore`). */
  besideDockerfile?: Record<string, string>;
  /**
   * Where this machine's Buildah cannot build the Dockerfile (Debian's 1.28 has no heredocs),
   * the same image written without the feature: Buildah builds this one instead, so the result
   * is still checked against an independent builder. `why` says which feature.
   */
  buildahEquivalent?: { why: string; dockerfile: string };
  exceptions: NamedException[];
}

const addAppUser =
  "RUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group";

const heredocs = [
  'ARG BASE',
  'FROM $BASE',
  'ENV WHO=kiln',
  'RUN cat <<EOF > /expanded',
  'hello $WHO',
  'EOF',
  "RUN cat <<'EOF' > /literal",
  'hello $WHO',
  'EOF',
  'RUN <<A sh && <<B sh',
  'echo a > /a',
  'A',
  'echo b > /b',
  'B',
  'RUN <<-EOT sh',
  '\techo tabbed > /chomped',
  '\tEOT',
  'RUN <<EOF',
  'echo plain > /plain',
  'EOF',
  'RUN <<EOF',
  '#!/bin/sh',
  'echo "from a script" > /script',
  'EOF',
  'COPY <<EOF /etc/motd',
  'welcome $WHO',
  'EOF',
  'COPY <<-"EOT" <<TWO /multi/',
  '\tliteral $WHO',
  '\tEOT',
  'second',
  'TWO',
  '',
].join('\n');

export const conformanceCases: ConformanceCase[] = [
  {
    name: 'heredocs',
    dockerfile: heredocs,
    buildahEquivalent: {
      why: 'Buildah 1.28 has no heredocs: the same steps with echo and context files',
      dockerfile: [
        'ARG BASE',
        'FROM $BASE',
        'ENV WHO=kiln',
        'RUN echo "hello $WHO" > /expanded',
        "RUN echo 'hello $WHO' > /literal",
        'RUN echo a > /a && echo b > /b',
        'RUN echo tabbed > /chomped',
        'RUN echo plain > /plain',
        'RUN echo "from a script" > /script',
        'COPY equivalent/motd /etc/motd',
        'COPY equivalent/EOT equivalent/TWO /multi/',
        '',
      ].join('\n'),
    },
    files: {
      'equivalent/motd': 'welcome kiln\n',
      'equivalent/EOT': 'literal $WHO\n',
      'equivalent/TWO': 'second\n',
    },
    exceptions: [exceptions.buildahRunMountPoints],
  },
  {
    name: 'dockerignore-exceptions',
    dockerfile: 'ARG BASE\nFROM $BASE\nCOPY . /app\nCOPY logs /logs\n',
    files: {
      '.dockerignore': 'logs/\n!logs/keep.log\n*.tmp\n',
      'main.txt': 'main\n',
      'logs/keep.log': 'keep\n',
      'logs/other.log': 'other\n',
      'scratch.tmp': 'tmp\n',
      'sub/nested.tmp': 'nested: *.tmp matches at the top only\n',
    },
    exceptions: [],
  },
  {
    name: 'dockerfile-specific-ignore',
    dockerfile: 'ARG BASE\nFROM $BASE\nCOPY . /app\n',
    files: { '.dockerignore': 'a.txt\n', 'a.txt': 'a\n', 'b.txt': 'b\n' },
    besideDockerfile: { 'Dockerfile.dockerignore': 'b.txt\n' },
    exceptions: [],
  },
  {
    name: 'user-workdir',
    dockerfile: [
      'ARG BASE',
      'FROM $BASE',
      addAppUser,
      'USER app',
      'WORKDIR /home/app/work',
      'RUN id -u > /tmp/uid',
      'USER root',
      'WORKDIR /srv/root-made',
      '',
    ].join('\n'),
    files: {},
    exceptions: [exceptions.buildahRunMountPoints],
  },
  {
    name: 'scratch-static-binary',
    dockerfile: [
      'ARG BASE',
      'FROM $BASE AS tools',
      'FROM scratch',
      'COPY --from=tools /bin/busybox /busybox',
      'RUN ["/busybox", "sh", "-c", "/busybox id -u > /uid && /busybox id -g > /gid"]',
      '',
    ].join('\n'),
    files: {},
    exceptions: [exceptions.buildahRunMountPoints, exceptions.scratchWorkdir],
  },
];
