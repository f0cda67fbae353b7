import {
  buildahMountParents,
  buildahPrunesExcludedDirectories,
  chmodOnCreatedDirectory,
  exceptions,
  type NamedException,
} from './exceptions.ts';

/**
 * One Dockerfile built by Kiln and by Buildah from the same context. `BASE` is the busybox
 * fixture in the test registry; `exceptions` are the documented differences this case shows.
 */
export type ContextFile = string | { symlink: string } | { hardlink: string };

export interface ConformanceCase {
  name: string;
  dockerfile: string;
  /** Context files by relative path: text, or a symbolic or hard link. */
  files: Record<string, ContextFile>;
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
    name: 'dockerignore-walked-directories',
    dockerfile: 'ARG BASE\nFROM $BASE\nCOPY . /app\n',
    files: {
      '.dockerignore': '*\n!**/keep.txt\n',
      'main.txt': 'main\n',
      'a/keep.txt': 'keep\n',
      'b/skip.txt': 'skip\n',
      'c/d/skip.txt': 'skip\n',
      'c/e/keep.txt': 'deep keep\n',
    },
    exceptions: [
      buildahPrunesExcludedDirectories('app/a', 'app/a/keep.txt', 'app/c', 'app/c/e', 'app/c/e/keep.txt'),
    ],
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
  {
    name: 'implicit-directories-and-chown',
    dockerfile: [
      'ARG BASE',
      'FROM $BASE',
      'COPY --chown=1000:1000 a.txt /deep/nested/dir/',
      'COPY a.txt /plain/nested/',
      'COPY --chown=1000:1000 --chmod=0640 dir/ /copied/',
      'ADD --chown=1000:1000 a.txt /added/sub/',
      'COPY --chmod=4755 a.txt /bin/suid-copied',
      'COPY --chown=1000:1000 --chmod=0700 dir /created-from-source',
      'RUN mkdir -m 0750 /existing',
      'COPY --chown=1000:1000 dir /existing',
      'COPY --chown=1000:1000 dir/ /existing-slash/',
      'COPY . /whole-context/',
      '',
    ].join('\n'),
    files: { 'a.txt': 'a\n', 'dir/x.txt': 'x\n', 'dir/sub/y.txt': 'y\n' },
    exceptions: [exceptions.buildahRunMountPoints, chmodOnCreatedDirectory('created-from-source')],
  },
  {
    name: 'links-whiteouts-special-bits',
    dockerfile: [
      'ARG BASE',
      'FROM $BASE AS build',
      'RUN mkdir -p /out && echo shared > /out/h1 && ln /out/h1 /out/h2 && ln -s h1 /out/s1 && ln -s /nowhere /out/dangling',
      'FROM $BASE',
      'COPY links/ /ctx/',
      'COPY --from=build /out/ /from-stage/',
      'RUN echo data > /h1 && ln /h1 /h2 && ln -s h1 /s1',
      'RUN rm -rf /etc/group /var && mkdir /fresh',
      'RUN touch /suid /sgid && chmod 4755 /suid && chmod 2755 /sgid && mkdir /sticky && chmod 1777 /sticky',
      'RUN mkdir -p /base-dir && echo keep > /base-dir/keep && echo gone > /base-dir/gone',
      'RUN rm /base-dir/gone',
      '',
    ].join('\n'),
    files: {
      'links/target.txt': 'target\n',
      'links/relative-link': { symlink: 'target.txt' },
      'links/absolute-link': { symlink: '/etc/passwd' },
      'links/hard.txt': { hardlink: 'links/target.txt' },
    },
    exceptions: [exceptions.buildahRunMountPoints],
  },
  {
    name: 'volume-and-metadata',
    dockerfile: [
      'ARG BASE',
      'FROM $BASE',
      'VOLUME /data /var/cache/app',
      'EXPOSE 80 53/udp',
      'LABEL a=1 b="two words"',
      'STOPSIGNAL SIGQUIT',
      'ENV X=1 Y="y y"',
      'ENTRYPOINT ["/bin/sh"]',
      'CMD ["-c", "true"]',
      '',
    ].join('\n'),
    files: {},
    exceptions: [],
  },
  {
    name: 'copy-parents',
    dockerfile: [
      'ARG BASE',
      'FROM $BASE',
      'COPY --parents x/a.txt y/a.txt /parents/',
      'COPY --parents ./x/./sub/b.txt /pivot/',
      'COPY --parents --chown=1000:1000 */a.txt /glob/',
      'ADD --parents x /dirs/',
      '',
    ].join('\n'),
    buildahEquivalent: {
      why: 'Buildah 1.28 has no --parents: each source copied to its full path',
      dockerfile: [
        'ARG BASE',
        'FROM $BASE',
        'COPY x/a.txt /parents/x/a.txt',
        'COPY y/a.txt /parents/y/a.txt',
        'COPY x/sub/b.txt /pivot/sub/b.txt',
        'COPY --chown=1000:1000 x/a.txt /glob/x/a.txt',
        'COPY --chown=1000:1000 y/a.txt /glob/y/a.txt',
        'ADD x /dirs/x',
        '',
      ].join('\n'),
    },
    files: { 'x/a.txt': 'xa\n', 'x/sub/b.txt': 'xb\n', 'y/a.txt': 'ya\n' },
    exceptions: [],
  },
  {
    name: 'stages-mounts-and-metadata',
    dockerfile: [
      'ARG BASE',
      'FROM $BASE AS build',
      'RUN mkdir -p /out && echo built > /out/file && chown 1000:1000 /out/file && chmod 600 /out/file',
      'FROM $BASE',
      'ARG GREETING=hello',
      'ENV TARGET=world',
      'COPY --from=build /out/file /copied-keeps-owner',
      'COPY --from=build --chown=0:0 /out/file /copied-chowned',
      'RUN --mount=type=bind,source=ctx.txt,target=/mnt/ctx.txt cat /mnt/ctx.txt > /from-bind',
      'RUN --mount=type=tmpfs,target=/scratch echo x > /scratch/y && ls /scratch > /tmpfs-list',
      'RUN --mount=type=cache,target=/var/cache/thing echo c > /var/cache/thing/c && cat /var/cache/thing/c > /from-cache',
      'RUN echo "$GREETING $TARGET" > /greeting',
      'WORKDIR /w',
      'ADD --chown=1000:1000 ctx.txt ./',
      'SHELL ["/bin/sh", "-ec"]',
      'RUN echo shell > /shell-ran',
      'HEALTHCHECK --interval=5s --retries=2 CMD ["true"]',
      'ONBUILD RUN echo child',
      'STOPSIGNAL SIGTERM',
      'USER 1000:1000',
      '',
    ].join('\n'),
    files: { 'ctx.txt': 'from the context\n' },
    exceptions: [exceptions.buildahRunMountPoints, buildahMountParents('mnt', 'var/cache')],
  },
];
