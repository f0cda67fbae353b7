import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { contextsDir, repoRoot, runChecked, runKiln, skopeoInspect, unpackWithUmoci } from './kilnProcess.ts';
import { listTree } from './treeListing.ts';

let registry: TestRegistry;
let base: PushedImage;
let work: string;

beforeAll(async () => {
  ({ registry, base, work } = await startBusyboxRegistry('kiln-e2e-build-'));
});
afterAll(() => stopBusyboxRegistry({ registry, work }));

interface ImageConfigJson {
  config: Record<string, unknown>;
  rootfs: { diff_ids: string[] };
  history: { created_by?: string; empty_layer?: boolean }[];
}

describe('kiln build against a real registry', () => {
  it('builds every instruction, pushes, and skopeo and umoci see the image as built', {
    timeout: 180_000,
  }, async () => {
    const destination = `${registry.host}/e2e/everything:v1`;
    const digestFile = join(work, 'digest');
    const nameTagFile = join(work, 'name-tag');
    const result = await runKiln([
      'build',
      '--context',
      join(contextsDir, 'everything'),
      '--build-arg',
      `BASE=${base.reference}`,
      '--destination',
      destination,
      '--insecure-registry',
      registry.host,
      '--label',
      'ci.pipeline=e2e',
      '--digest-file',
      digestFile,
      '--image-name-tag-with-digest-file',
      nameTagFile,
    ]);
    expect(result.stderr).toContain('[1 ');
    expect(result.code, result.stderr).toBe(0);
    const digest = (await readFile(digestFile, 'utf8')).trim();
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(result.stdout).toContain(`${destination}@${digest}`);
    expect(await readFile(nameTagFile, 'utf8')).toBe(`${destination}@${digest}\n`);

    const manifest = JSON.parse((await skopeoInspect(destination)).stdout) as { Digest: string };
    expect(manifest.Digest).toBe(digest);
    const config = JSON.parse((await skopeoInspect(destination, true)).stdout) as ImageConfigJson;
    expect(config.config).toMatchObject({
      User: 'user',
      Env: [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'APP_HOME=/opt/app',
        'APP_VERSION=1.2.3',
      ],
      Entrypoint: ['/usr/local/bin/run'],
      Cmd: ['--serve'],
      WorkingDir: '/opt/app',
      Labels: { 'org.example.version': '1.2.3', 'org.example.name': 'everything', 'ci.pipeline': 'e2e' },
      ExposedPorts: { '8080/tcp': {}, '9090/udp': {} },
      Volumes: { '/data': {} },
      StopSignal: 'SIGINT',
      Healthcheck: { Test: ['CMD', '/bin/true'], Interval: 10e9, Timeout: 3e9, Retries: 2 },
      OnBuild: ['RUN echo child'],
      Shell: ['/bin/sh', '-c'],
    });
    const layered = config.history.filter((entry) => !entry.empty_layer);
    expect(layered).toHaveLength(config.rootfs.diff_ids.length);
    expect(config.history.map((entry) => entry.created_by)).toContain('/bin/sh -c #(nop)  USER user');
    expect(
      config.history.some((entry) => entry.created_by?.startsWith('RUN |1 VERSION=1.2.3 /bin/sh -c echo')),
    ).toBe(true);

    const rootfs = await unpackWithUmoci(`docker://${destination}`, join(work, 'everything'));
    const tree = await listTree(rootfs);
    expect(tree.get('opt/app/combined.txt')).toMatchObject({
      type: 'file',
      content: 'alpha\nbeta\n',
      mode: 0o640,
      uid: 0,
    });
    expect(tree.get('opt/app/version.txt')).toMatchObject({ content: 'version 1.2.3\n' });
    expect(tree.get('opt/app/current')).toMatchObject({ type: 'symlink', target: 'version.txt' });
    expect(tree.get('usr/local/bin/run')).toMatchObject({ type: 'file', mode: 0o750, uid: 1000, gid: 1000 });
    expect(tree.get('opt/unpacked/pkg/packed.txt')).toMatchObject({ content: 'packed\n' });
    expect(tree.get('opt/unpacked/pkg/link')).toMatchObject({ type: 'symlink', target: 'packed.txt' });
    expect(tree.get('srv/static/css/site.css')).toMatchObject({
      content: await readFile(join(contextsDir, 'everything/static/css/site.css'), 'utf8'),
      uid: 0,
      gid: 0,
    });
    expect(tree.has('srv/static/secret.key')).toBe(false); // .dockerignore
    expect(tree.get('home/user')).toMatchObject({ type: 'dir', uid: 1000, gid: 1000 });
    expect(tree.get('home/user/id.txt')?.content).toBe(
      'uid=1000(user) gid=1000(user) groups=50(staff),1000(user)\n',
    );
    expect(tree.get('home/user/id.txt')).toMatchObject({ uid: 1000, gid: 1000 });
    // The sandbox's mounts never reach a layer.
    expect(tree.get('etc/resolv.conf')).toBeUndefined();
  });

  it('kiln executor takes Kaniko flags as pipelines write them', { timeout: 120_000 }, async () => {
    const destination = `${registry.host}/e2e/kaniko:latest`;
    const result = await runKiln([
      'executor',
      `--context=dir://${join(repoRoot, 'examples/multistage')}`,
      '-f',
      'Dockerfile',
      `--destination=${destination}`,
      `--build-arg=BASE=${base.reference}`,
      '--snapshotMode=redo',
      '--cleanup',
      '--use-new-run',
      '--skip-unused-stages=true',
      `--insecure-registry=${registry.host}`,
      '--verbosity=info',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const config = JSON.parse((await skopeoInspect(destination, true)).stdout) as ImageConfigJson;
    expect(config.config).toMatchObject({
      Cmd: ['cat', '/srv/shout.txt'],
      Env: expect.arrayContaining(['GREETING_FILE=/srv/shout.txt']),
    });
    const rootfs = await unpackWithUmoci(`docker://${destination}`, join(work, 'kaniko'));
    expect(await readFile(join(rootfs, 'srv/shout.txt'), 'utf8')).toMatch(/^HELLO FROM KILN\nbuilt on /);
  });

  it('writes an OCI layout and JSON events without pushing', { timeout: 120_000 }, async () => {
    const layout = join(work, 'oci-out');
    const trace = join(work, 'trace.json');
    const result = await runKiln([
      'build',
      '--context',
      join(repoRoot, 'examples/multistage'),
      '--build-arg',
      `BASE=${base.reference}`,
      '--insecure-registry',
      registry.host,
      '--no-push',
      '--oci-layout-path',
      layout,
      '--tar-path',
      join(work, 'image.tar'),
      '--log-format',
      'json',
      '--trace',
      trace,
      '--reproducible',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; digest?: string });
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining(['stage-started', 'step-started', 'layer-written', 'image-done', 'result']),
    );
    const digest = events.find((event) => event.type === 'result')?.digest;
    const inspected = JSON.parse(await runChecked('skopeo', ['inspect', `oci:${layout}`])) as {
      Digest: string;
      Created: string;
    };
    expect(inspected.Digest).toBe(digest);
    expect(inspected.Created).toBe('1970-01-01T00:00:00Z');
    const fromTar = JSON.parse(
      await runChecked('skopeo', ['inspect', '--config', `docker-archive:${join(work, 'image.tar')}`]),
    ) as {
      config: { Cmd: string[] };
    };
    expect(fromTar.config.Cmd).toEqual(['cat', '/srv/shout.txt']);
    const traceJson = JSON.parse(await readFile(trace, 'utf8')) as {
      traceEvents: { ph: string; cat: string }[];
    };
    expect(traceJson.traceEvents.filter((event) => event.cat === 'step').length).toBeGreaterThan(5);
  });

  it('a rebuild with --cache --cache-dir runs and copies nothing and, reproducible, gives the same digest', {
    timeout: 120_000,
  }, async () => {
    const cacheDir = join(work, 'cache');
    const build = () =>
      runKiln([
        'build',
        '--context',
        join(contextsDir, 'everything'),
        '--build-arg',
        `BASE=${base.reference}`,
        '--insecure-registry',
        registry.host,
        '--no-push',
        '--reproducible',
        '--cache',
        '--cache-dir',
        cacheDir,
      ]);
    const first = await build();
    expect(first.code, first.stderr).toBe(0);
    const second = await build();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.split('\n')[0]).toBe(first.stdout.split('\n')[0]);
    expect(second.stderr).not.toContain('│ ');
    // Every RUN (3) and COPY/ADD (5) at least; WORKDIR steps that made a layer too.
    expect(second.stderr.match(/\] cached/g)?.length).toBeGreaterThanOrEqual(8);
  });
});
