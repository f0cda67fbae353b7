import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxExecutor } from './executor/sandboxExecutor.ts';
import { createTestBuilder, type TestBuilder } from './testing/testBuild.ts';

let builder: TestBuilder;
let dir: string;

beforeAll(async () => {
  builder = await createTestBuilder();
  dir = builder.dir;
});
afterAll(async () => {
  await builder.dispose();
});

const build: TestBuilder['build'] = (...args) => builder.build(...args);

describe('buildImage', () => {
  it('builds every instruction into config, history and layers', async () => {
    const { config, tree, events } = await build(
      'all',
      `# syntax=docker/dockerfile:1
ARG VERSION=1.0
FROM busybox AS base
ARG VERSION
ENV APP_HOME=/app GREETING="hello world"
LABEL version=$VERSION maintainer=kiln
WORKDIR $APP_HOME/src
COPY hello.txt ./
COPY --chmod=0755 --chown=app:staff tool.sh /usr/local/bin/tool
COPY dir/ /data/
RUN echo "$GREETING $VERSION" > /app/out.txt && id -u > /app/uid && ln -s out.txt /app/link
USER app
RUN id > /tmp/id-as-app
EXPOSE 8080 53/udp
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --retries=3 CMD ["true"]
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered
ENTRYPOINT ["/usr/local/bin/tool"]
CMD ["--help"]
`,
      { 'hello.txt': 'hi\n', 'tool.sh': '#!/bin/sh\necho tool\n', 'dir/a.txt': 'a', 'dir/sub/b.txt': 'b' },
    );
    const c = config.config!;
    expect(c.Env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'APP_HOME=/app',
      'GREETING=hello world',
    ]);
    expect(c.Labels).toEqual({ version: '1.0', maintainer: 'kiln' });
    expect(c.WorkingDir).toBe('/app/src');
    expect(c.User).toBe('app');
    expect(c.ExposedPorts).toEqual({ '8080/tcp': {}, '53/udp': {} });
    expect(c.Volumes).toEqual({ '/data': {} });
    expect(c.StopSignal).toBe('SIGTERM');
    expect(c.Healthcheck).toEqual({ Test: ['CMD', 'true'], Interval: 30e9, Retries: 3 });
    expect(c.Shell).toEqual(['/bin/sh', '-ec']);
    expect(c.OnBuild).toEqual(['RUN echo triggered']);
    expect(c.Entrypoint).toEqual(['/usr/local/bin/tool']);
    expect(c.Cmd).toEqual(['--help']);
    expect(await readFile(join(tree, 'app/out.txt'), 'utf8')).toBe('hello world 1.0\n');
    expect(await readFile(join(tree, 'app/uid'), 'utf8')).toBe('0\n');
    expect(await readlink(join(tree, 'app/link'))).toBe('out.txt');
    expect(await readFile(join(tree, 'app/src/hello.txt'), 'utf8')).toBe('hi\n');
    const tool = await stat(join(tree, 'usr/local/bin/tool'));
    expect([tool.mode & 0o7777, tool.uid, tool.gid]).toEqual([0o755, 1000, 50]);
    expect(await readFile(join(tree, 'data/sub/b.txt'), 'utf8')).toBe('b');
    expect(await readFile(join(tree, 'tmp/id-as-app'), 'utf8')).toMatch(/^uid=1000\(app\) gid=1000\(app\)/);
    const history = config.history!;
    expect(history[0]?.created_by).toBe('test busybox');
    const runs = history.filter((entry) => entry.created_by?.startsWith('RUN '));
    expect(runs[0]?.created_by).toContain('|1 VERSION=1.0 /bin/sh -c echo');
    expect(history.filter((entry) => !entry.empty_layer)).toHaveLength(config.rootfs.diff_ids.length);
    expect(history.find((entry) => entry.created_by?.includes('ENV '))).toMatchObject({ empty_layer: true });
    expect(events.filter((event) => event.type === 'step-started')).toHaveLength(18);
  });

  it('builds only the stages the target needs and copies between stages', async () => {
    const { config, tree, events } = await build(
      'multi',
      `FROM busybox AS unused
RUN exit 1
FROM busybox AS build
RUN mkdir -p /out && echo built > /out/artifact
FROM scratch
COPY --from=build /out/artifact /artifact
`,
      {},
    );
    expect(await readFile(join(tree, 'artifact'), 'utf8')).toBe('built\n');
    expect(config.rootfs.diff_ids).toHaveLength(1);
    const stages = events.filter((event) => event.type === 'stage-started').map((event) => event.stage);
    expect(stages).toEqual(['build', '2']);
  });

  it('fails a RUN with its exit code, line and output tail', async () => {
    const error = await build(
      'fail',
      'FROM busybox\nRUN echo first\nRUN echo about to fail && exit 3\n',
      {},
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KilnError);
    expect(error).toMatchObject({ code: 'RUN_FAILED', exitCode: 3 });
    expect((error as Error).message).toContain('Dockerfile:3');
    expect((error as Error).message).toContain('about to fail');
  });

  it('refuses COPY sources outside the context, missing ones, and unknown stages', async () => {
    await expect(build('outside', 'FROM busybox\nCOPY ../secret /x\n', {})).rejects.toMatchObject({
      code: 'COPY_OUTSIDE_CONTEXT',
    });
    await expect(build('missing', 'FROM busybox\nCOPY nope.txt /x\n', {})).rejects.toMatchObject({
      code: 'COPY_SOURCE_MISSING',
    });
    await expect(build('nostage', 'FROM busybox\nCOPY --from=nosuch /x /x\n', {})).rejects.toMatchObject({
      code: 'UNKNOWN_STAGE',
    });
  });

  it('honours .dockerignore and globs, and never follows a context link out of the context', async () => {
    const { tree } = await build('ignore', 'FROM busybox\nCOPY *.txt /files/\nCOPY . /all/\n', {
      '.dockerignore': 'secret.txt\n*.log\n',
      'a.txt': 'a',
      'b.txt': 'b',
      'secret.txt': 's',
      'x.log': 'l',
    });
    expect((await lstat(join(tree, 'files/a.txt'))).isFile()).toBe(true);
    await expect(lstat(join(tree, 'files/secret.txt'))).rejects.toThrow();
    await expect(lstat(join(tree, 'all/x.log'))).rejects.toThrow();
    expect(await readFile(join(tree, 'all/b.txt'), 'utf8')).toBe('b');
  });

  it('uses build args, global ARGs in FROM, and --label', async () => {
    const { config } = await build(
      'args',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax
      'ARG BASE=nothing\nFROM ${BASE}\nARG WHO=nobody\nRUN echo "$WHO" > /who\nLABEL who=$WHO\n',
      {},
      {
        buildArgs: new Map([
          ['BASE', 'busybox'],
          ['WHO', 'kiln'],
        ]),
        labels: { extra: 'yes' },
      },
    );
    expect(config.config?.Labels).toEqual({ who: 'kiln', extra: 'yes' });
  });

  it('a platform ARG declared before FROM keeps its automatic value in the stage', async () => {
    const { tree, config } = await build(
      'global-targetarch',
      'ARG TARGETARCH\nFROM busybox\nARG TARGETARCH\nRUN echo "arch=$TARGETARCH" > /arch\n',
      {},
    );
    expect(await readFile(join(tree, 'arch'), 'utf8')).toBe(`arch=${config.architecture}\n`);
  });

  it('history records ARG names and declared defaults, never a build-arg value', async () => {
    const { config } = await build(
      'arg-history',
      'FROM busybox\nARG PASSWORD\nARG LEVEL=debug MODE\nRUN test "$PASSWORD" = hunter2\n',
      {},
      {
        buildArgs: new Map([
          ['PASSWORD', 'hunter2'],
          ['LEVEL', 'trace'],
          ['MODE', 'fast'],
        ]),
      },
    );
    const own = (config.history ?? []).map((entry) => entry.created_by ?? '').slice(-3);
    expect(own[0]).toBe('/bin/sh -c #(nop)  ARG PASSWORD');
    expect(own[1]).toBe('/bin/sh -c #(nop)  ARG LEVEL=debug MODE');
    // RUN keeps the values it saw, as BuildKit records them (`|N NAME=value`).
    expect(own[2]).toMatch(/^RUN \|3 PASSWORD=hunter2 LEVEL=trace MODE=fast /);
  });

  it('cache entries of stages that never reach the image carry no build-arg value', async () => {
    const shared = { storeDir: join(dir, 'redact-store'), cacheDir: join(dir, 'redact-steps') };
    const { config } = await build(
      'redact',
      'FROM busybox AS tools\nARG PASSWORD\nRUN echo built > /tool\nENV TOKEN=$PASSWORD\nCOPY f /f\n' +
        'FROM busybox\nCOPY --from=tools /tool /tool\nRUN cat /tool\n',
      { f: 'f' },
      { buildArgs: new Map([['PASSWORD', 'hunter2']]) },
      { shared },
    );
    expect(JSON.stringify(config)).not.toContain('hunter2');
    const entries = await readdir(shared.cacheDir);
    expect(entries.length).toBeGreaterThanOrEqual(4);
    for (const entry of entries)
      expect(await readFile(join(shared.cacheDir, entry), 'utf8'), entry).not.toContain('hunter2');
  });

  it('--ignore-path and the executor rules leave COPY, ADD and WORKDIR paths out of layers', async () => {
    const { tree } = await build(
      'ignore-copy',
      'FROM busybox\nCOPY secret.txt /data/ignored/secret.txt\nCOPY keep.txt /data/keep.txt\n' +
        'ADD keep.txt /data/ignored/added.txt\nWORKDIR /scratch/ignored/deep\nCOPY keep.txt /etc/hosts\n',
      { 'secret.txt': 'secret', 'keep.txt': 'keep' },
      { ignorePaths: ['/data/ignored', 'scratch/ignored'] },
    );
    expect(await readFile(join(tree, 'data/keep.txt'), 'utf8')).toBe('keep');
    await expect(lstat(join(tree, 'data/ignored'))).rejects.toThrow();
    await expect(lstat(join(tree, 'scratch/ignored'))).rejects.toThrow();
    expect((await lstat(join(tree, 'scratch'))).isDirectory()).toBe(true);
    // /etc/hosts is the sandbox's bind mount: no layer holds it.
    expect(await readFile(join(tree, 'etc/hosts'), 'utf8').catch(() => 'absent')).not.toBe('keep');
  });

  it('single-snapshot makes one layer for the stage', async () => {
    const { config, tree } = await build(
      'single',
      'FROM busybox\nRUN echo 1 > /one\nCOPY f /f\nRUN echo 2 > /two\n',
      { f: 'f' },
      { singleSnapshot: true },
    );
    expect(config.rootfs.diff_ids).toHaveLength(2);
    // History agrees: one entry with a layer per layer, the stage's owned by its last RUN.
    const withLayer = (config.history ?? []).filter((entry) => !entry.empty_layer);
    expect(withLayer).toHaveLength(2);
    expect(withLayer[1]?.created_by).toMatch(/^RUN .*echo 2/);
    expect(await readFile(join(tree, 'two'), 'utf8')).toBe('2\n');
    expect(await readFile(join(tree, 'f'), 'utf8')).toBe('f');
  });

  it('ADD unpacks local tar archives', async () => {
    const base = join(dir, 'add-src');
    await mkdir(join(base, 'pkg'), { recursive: true });
    await writeFile(join(base, 'pkg', 'inside.txt'), 'inside');
    await symlink('inside.txt', join(base, 'pkg', 'link'));
    const { spawnSync } = await import('node:child_process');
    spawnSync('tar', ['-czf', join(dir, 'pkg.tar.gz'), '-C', base, 'pkg']);
    const archive = await readFile(join(dir, 'pkg.tar.gz'));
    const { tree } = await build('add', 'FROM busybox\nADD pkg.tar.gz /opt/\n', { 'pkg.tar.gz': archive });
    expect(await readFile(join(tree, 'opt/pkg/inside.txt'), 'utf8')).toBe('inside');
    expect(await readlink(join(tree, 'opt/pkg/link'))).toBe('inside.txt');
  });

  it('a layer cache hit reuses the RUN layer and runs nothing', async () => {
    const shared = { storeDir: join(dir, 'cache-store'), cacheDir: join(dir, 'cache-steps') };
    const dockerfile =
      'FROM busybox\nRUN echo "$RANDOM$RANDOM" > /random && echo ran\nCOPY f /f\nRUN cat /random /f > /both\n';
    const first = await build('cache1', dockerfile, { f: 'f' }, {}, { shared });
    const second = await build('cache2', dockerfile, { f: 'f' }, {}, { shared });
    // Every layer is the very same blob; nothing ran or was copied.
    expect(second.config.rootfs.diff_ids).toEqual(first.config.rootfs.diff_ids);
    expect(second.events.filter((event) => event.type === 'step-cached')).toHaveLength(3);
    expect(second.events.some((event) => event.type === 'run-output')).toBe(false);
    expect(await readFile(join(second.tree, 'both'), 'utf8')).toBe(
      await readFile(join(first.tree, 'both'), 'utf8'),
    );
    // A changed source changes the key of every later step.
    const third = await build('cache3', dockerfile, { f: 'g' }, {}, { shared });
    expect(third.events.filter((event) => event.type === 'step-cached')).toHaveLength(1);
    expect(await readFile(join(third.tree, 'both'), 'utf8')).toMatch(/g$/);
  });

  it('heredocs, ADD <url> --checksum, RUN --network=none and the automatic platform ARGs', async () => {
    const body = 'downloaded\n';
    const server = createServer((_request, response) => response.end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const checksum = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    try {
      const { tree, config } = await build(
        'features',
        `FROM busybox
ARG TARGETARCH
RUN <<EOF
echo "arch=$TARGETARCH" > /arch
echo second line >> /arch
EOF
ARG WHO=kiln
COPY <<EOF /etc/motd
welcome "$WHO" \\$HOME
EOF
ADD --checksum=${checksum} http://127.0.0.1:${port}/files/data.txt /downloads/
RUN --network=none cat /proc/net/dev | grep -c : > /interfaces
`,
        {},
      );
      expect(await readFile(join(tree, 'arch'), 'utf8')).toBe(`arch=${config.architecture}\nsecond line\n`);
      // Heredoc bodies expand raw, as BuildKit does: quotes stay, variables and escapes apply.
      expect(await readFile(join(tree, 'etc/motd'), 'utf8')).toBe('welcome "kiln" $HOME\n');
      const downloaded = await stat(join(tree, 'downloads/data.txt'));
      expect(downloaded.mode & 0o777).toBe(0o600);
      expect(await readFile(join(tree, 'downloads/data.txt'), 'utf8')).toBe(body);
      expect(await readFile(join(tree, 'interfaces'), 'utf8')).toBe('1\n');
      await expect(
        build(
          'badsum',
          `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/x /x\n`,
          {},
        ),
      ).rejects.toMatchObject({ code: 'ADD_CHECKSUM_MISMATCH' });
    } finally {
      server.close();
    }
  });

  it('builds independent stages at once, and the first failure stops the others', async () => {
    const { events, tree } = await build(
      'parallel',
      `FROM busybox AS left
RUN sleep 1 && echo left > /left
FROM busybox AS right
RUN sleep 1 && echo right > /right
FROM scratch
COPY --from=left /left /left
COPY --from=right /right /right
`,
      {},
    );
    const order = events
      .filter((event) => event.type === 'stage-started' || event.type === 'stage-done')
      .map((event) => `${event.type === 'stage-started' ? '+' : '-'}${event.stage}`);
    expect(order.slice(0, 2).sort()).toEqual(['+left', '+right']);
    expect(await readFile(join(tree, 'right'), 'utf8')).toBe('right\n');

    const started = Date.now();
    await expect(
      build(
        'parallel-fail',
        'FROM busybox AS slow\nRUN sleep 30\nFROM busybox AS bad\nRUN exit 4\nFROM scratch\nCOPY --from=slow /x /x\nCOPY --from=bad /y /y\n',
        {},
      ),
    ).rejects.toMatchObject({ code: 'RUN_FAILED', exitCode: 4 });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('with one root at a time (container-style executors) COPY --from rebuilds the stage tree from its layers', async () => {
    class OneRootExecutor extends SandboxExecutor {
      override readonly concurrentStages = false;
    }
    const { config } = await build(
      'one-root',
      'FROM busybox AS a\nRUN echo from-a > /a\nFROM busybox\nCOPY --from=a /a /copied\nRUN cat /copied\n',
      {},
      { reproducible: true },
      { executor: (workDir) => new OneRootExecutor({ workDir }) },
    );
    expect(config.rootfs.diff_ids).toHaveLength(2);
    expect(config.history?.at(-1)?.empty_layer).toBe(true);
  });

  it('with one root at a time COPY --from reads only the named paths, and the same image comes out', async () => {
    class OneRootExecutor extends SandboxExecutor {
      override readonly concurrentStages = false;
    }
    // A source through a symlink (the selection falls back to the whole tree), a hard link into
    // the named dir from outside it (the same), a plain dir, a wildcard matching a link out of it
    // (the same).
    const dockerfile = [
      'FROM busybox AS a',
      'RUN mkdir -p /real/sub /plain /glob && echo f > /real/sub/f && ln -s real /link \\',
      ' && echo p > /plain/p && echo o > /outside && ln /outside /plain/hard && echo g > /glob/x.txt \\',
      // A wildcard match that is a link out of the named dir: the copy follows it.
      ' && mkdir /data && echo y > /data/y-real && ln -s ../data/y-real /glob/y.txt',
      'FROM busybox',
      'COPY --from=a /link/sub/f /via-link',
      'COPY --from=a /plain /plain',
      'COPY --from=a /glob/*.txt /globbed/',
      'RUN cat /via-link /plain/p /plain/hard /globbed/x.txt /globbed/y.txt',
      '',
    ].join('\n');
    const oneRoot = await build(
      'one-root-select',
      dockerfile,
      {},
      { reproducible: true },
      { executor: (workDir) => new OneRootExecutor({ workDir }) },
    );
    // The busybox layer, read once for each COPY with a selection: nothing of it is named.
    const emptySelections = oneRoot.events.filter(
      (event) =>
        event.type === 'layer' &&
        event.stage !== 'a' &&
        event.event.type === 'layer-extracted' &&
        event.event.entries === 0,
    );
    expect(emptySelections).toHaveLength(3);
    const perStage = await build('one-root-select-per-stage', dockerfile, {}, { reproducible: true });
    expect(oneRoot.config.rootfs.diff_ids).toEqual(perStage.config.rootfs.diff_ids);
    expect(await readFile(join(oneRoot.tree, 'plain/hard'), 'utf8')).toBe('o\n');
    expect(await readFile(join(oneRoot.tree, 'via-link'), 'utf8')).toBe('f\n');
    expect(await readFile(join(oneRoot.tree, 'globbed/y.txt'), 'utf8')).toBe('y\n');
  });

  it('asks for each image base once, as the build starts, before any stage root is prepared', async () => {
    const log: string[] = [];
    class WatchedExecutor extends SandboxExecutor {
      override readonly concurrentStages = false;
      override prepareRoot(stage: { index: number; name: string }): Promise<string> {
        log.push(`root ${stage.name}`);
        return super.prepareRoot(stage);
      }
    }
    const { events } = await build(
      'base-pulls',
      'FROM busybox AS a\nRUN echo a > /a\nFROM busybox\nCOPY --from=a /a /copied\nRUN cat /copied\n',
      {},
      {},
      {
        executor: (workDir) => new WatchedExecutor({ workDir }),
        images: (source) => ({
          pull: (reference, platform) => {
            log.push(`pull ${reference}`);
            return source.pull(reference, platform);
          },
        }),
      },
    );
    // One manifest and config for both stages, asked for before the first root is ready.
    expect(log).toEqual(['pull busybox', 'root a', 'root 1']);
    // Each stage still reports its base when it reaches it, in stage order.
    const order = events
      .filter((event) => event.type === 'base-pulled' || event.type === 'stage-started')
      .map((event) => `${event.type} ${'stage' in event ? event.stage : ''}`);
    expect(order).toEqual(['base-pulled a', 'stage-started a', 'base-pulled 1', 'stage-started 1']);
  });

  it('without a layer cache a stage that writes to its root has its base layers fetched as soon as the manifest is known', async () => {
    const run = async (name: string, dockerfile: string, cached: boolean) => {
      const log: string[] = [];
      const shared = { storeDir: join(dir, `${name}-store`), cacheDir: join(dir, `${name}-cache`) };
      await build(
        name,
        dockerfile,
        {},
        {},
        {
          ...(cached ? { shared } : {}),
          fetchBlobs: async (layers) => {
            log.push(`fetch ${layers.length}`);
          },
          images: (source) => ({
            pull: async (reference, platform) => {
              const image = await source.pull(reference, platform);
              log.push('pulled');
              return image;
            },
          }),
        },
      );
      return log;
    };
    // Asked for as the manifest came, and again (a no-op for RemoteBlobs then) by the extraction.
    expect(await run('prefetch', 'FROM busybox\nWORKDIR /app\n', false)).toEqual([
      'pulled',
      'fetch 1',
      'fetch 1',
    ]);
    // Only metadata: the layers may never be needed (a push mounts them).
    expect(await run('prefetch-metadata', 'FROM busybox\nENV A=1\n', false)).toEqual(['pulled']);
    // With a cache the steps may all hit: nothing is fetched before a step needs it.
    expect(await run('prefetch-cached', 'FROM busybox\nWORKDIR /app\n', true)).toEqual(['pulled', 'fetch 1']);
  });

  it('with one root at a time a base that cannot be pulled fails the build at its stage, after the stages before it', async () => {
    const log: string[] = [];
    await expect(
      build(
        'base-pull-fails',
        'FROM busybox AS a\nRUN echo a > /a\nFROM missing-base\nCOPY --from=a /a /a\n',
        {},
        {},
        {
          images: (source) => ({
            pull: async (reference, platform) => {
              if (reference === 'missing-base') throw new KilnError('MANIFEST_UNKNOWN', 'no such image');
              const image = await source.pull(reference, platform);
              log.push(`pulled ${reference}`);
              return image;
            },
          }),
          executor: (workDir) =>
            new (class extends SandboxExecutor {
              override readonly concurrentStages = false;
              override run(...args: Parameters<SandboxExecutor['run']>) {
                log.push('run');
                return super.run(...args);
              }
            })({ workDir }),
        },
      ),
    ).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
      message: expect.stringContaining('cannot pull base image "missing-base": no such image'),
    });
    // The first stage's RUN ran before the second stage's base was reported.
    expect(log).toContain('run');
  });

  it('deletions become whiteouts: removed files and replaced directories are gone in the image', async () => {
    const { tree, config } = await build(
      'whiteouts',
      'FROM busybox\nRUN rm /etc/group && rm -rf /tmp && mkdir /tmp && echo new > /tmp/only\nRUN rm /bin/cat\n',
      {},
    );
    expect(config.rootfs.diff_ids).toHaveLength(3);
    await expect(lstat(join(tree, 'etc/group'))).rejects.toThrow();
    await expect(lstat(join(tree, 'bin/cat'))).rejects.toThrow();
    expect(await readFile(join(tree, 'tmp/only'), 'utf8')).toBe('new\n');
    expect((await lstat(join(tree, 'bin/sh'))).isSymbolicLink()).toBe(true);
  });

  it('ONBUILD triggers run when the image is used as a base, and are not inherited further', async () => {
    const { tree, config, events } = await build(
      'onbuild',
      'FROM busybox AS parent\nONBUILD RUN echo triggered > /trigger\nONBUILD ENV FROM_TRIGGER=yes\nFROM parent\nRUN cat /trigger\n',
      {},
    );
    expect(await readFile(join(tree, 'trigger'), 'utf8')).toBe('triggered\n');
    expect(config.config?.Env).toContain('FROM_TRIGGER=yes');
    expect(config.config?.OnBuild ?? null).toBeNull();
    expect(events.some((event) => event.type === 'run-output' && event.line === 'triggered')).toBe(true);
  });

  it('RUN --mount: cache dirs persist between RUNs, binds read the context or a stage, tmpfs; none reach a layer', async () => {
    const { tree, config } = await build(
      'mounts',
      `FROM busybox AS tools
RUN mkdir -p /opt && echo tool > /opt/tool.txt
FROM busybox
RUN --mount=type=cache,target=/var/cache/kiln echo first >> /var/cache/kiln/log
RUN --mount=type=cache,target=/var/cache/kiln cat /var/cache/kiln/log > /seen-cache
RUN --mount=type=bind,source=src,target=/mnt/src cat /mnt/src/input.txt > /seen-bind
RUN --mount=type=bind,from=tools,source=/opt,target=/mnt/tools cat /mnt/tools/tool.txt > /seen-stage
RUN --mount=type=bind,source=src,target=/mnt/rw,rw echo changed > /mnt/rw/input.txt
RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && ls /scratch > /seen-tmpfs
`,
      { 'src/input.txt': 'from context\n' },
    );
    expect(await readFile(join(tree, 'seen-cache'), 'utf8')).toBe('first\n');
    expect(await readFile(join(tree, 'seen-bind'), 'utf8')).toBe('from context\n');
    expect(await readFile(join(tree, 'seen-stage'), 'utf8')).toBe('tool\n');
    expect(await readFile(join(tree, 'seen-tmpfs'), 'utf8')).toBe('t\n');
    for (const gone of ['var/cache/kiln', 'mnt', 'scratch'])
      await expect(lstat(join(tree, gone))).rejects.toThrow();
    expect(await readFile(join(builder.contextOf('mounts'), 'src', 'input.txt'), 'utf8')).toBe(
      'from context\n',
    );
    expect(config.history?.filter((entry) => entry.created_by?.includes('--mount'))).toEqual([]);
  });
});
