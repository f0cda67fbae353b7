import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureMultiArchBusyboxImage, type PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { type ExecutorImageRefs, provideExecutorImages } from './executor/executorImageCache.ts';
import { type PodmanTestbed, startPodmanTestbed } from './executor/executorTestbed.ts';
import { runChecked, runKiln } from './kilnProcess.ts';

// Two-platform builds (linux/amd64 + linux/arm64) on this amd64 machine: the cross-compile
// pattern (no emulated step), RUN in both platforms (arm64 through QEMU), the index pushed and
// written to every output, and each platform's image run by podman.
let registry: TestRegistry;
let base: PushedImage;
let work: string;
let podman: PodmanTestbed;

beforeAll(async () => {
  ({ registry, work } = await startBusyboxRegistry('kiln-e2e-multi-'));
  base = await ensureMultiArchBusyboxImage(registry);
  podman = await startPodmanTestbed('multi-platform');
  await podman.podman.allowInsecureRegistries([registry.host]);
}, 300_000);
afterAll(async () => {
  await podman?.stop();
  await stopBusyboxRegistry({ registry, work });
});

interface IndexJson {
  mediaType: string;
  manifests: { mediaType: string; digest: string; platform: { os: string; architecture: string } }[];
}

const twoPlatforms = ['--platform', 'linux/amd64,linux/arm64'];

async function writeContext(name: string, dockerfile: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

async function build(context: string, destination: string, extra: string[] = []) {
  const result = await runKiln([
    'build',
    '--context',
    context,
    '--build-arg',
    `BASE=${base.reference}`,
    '--destination',
    destination,
    '--insecure-registry',
    registry.host,
    '--log-format',
    'json',
    ...extra,
  ]);
  expect(result.code, result.stderr + result.stdout).toBe(0);
  const events = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { result, events };
}

async function rawIndex(reference: string): Promise<IndexJson> {
  return JSON.parse(
    await runChecked('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reference}`]),
  ) as IndexJson;
}

/** Runs `sh -c script` in the image for `platform` (arm64 through QEMU) and returns its stdout. */
async function runOn(reference: string, platform: string, script: string): Promise<string> {
  const run = await podman.podman.run(
    ['run', '--rm', '--pull', 'always', '--platform', platform, reference, 'sh', '-c', script],
    { timeoutMs: 300_000 },
  );
  expect(run.code, run.stderr).toBe(0);
  return run.stdout;
}

function platformsOf(index: IndexJson): string[] {
  return index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`);
}

/** step-started events of RUN steps, per stage. */
function runSteps(events: Record<string, unknown>[], stage: string): number {
  return events.filter(
    (event) =>
      event.type === 'step-started' && event.stage === stage && String(event.instruction).startsWith('RUN'),
  ).length;
}

describe('kiln build --platform linux/amd64,linux/arm64', () => {
  it('cross-compile pattern: the build stage runs natively per TARGETARCH, each image runs on its platform', {
    timeout: 600_000,
  }, async () => {
    const context = await writeContext(
      'cross',
      [
        'ARG BASE',
        'FROM --platform=$BUILDPLATFORM $BASE AS build',
        'ARG TARGETARCH',
        'RUN echo built-for-$TARGETARCH on $(uname -m) > /out',
        'FROM $BASE',
        'COPY --from=build /out /out',
        '',
      ].join('\n'),
    );
    const destination = `${registry.host}/e2e/multi-cross:1`;
    const { events } = await build(context, destination, twoPlatforms);
    const index = await rawIndex(destination);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(platformsOf(index)).toEqual(['linux/amd64', 'linux/arm64']);
    // The stage reads TARGETARCH: one RUN per platform, both on the build machine.
    expect(runSteps(events, 'build')).toBe(2);
    expect(await runOn(destination, 'linux/arm64', 'uname -m; cat /out')).toBe(
      'aarch64\nbuilt-for-arm64 on x86_64\n',
    );
    expect(await runOn(destination, 'linux/amd64', 'uname -m; cat /out')).toBe(
      'x86_64\nbuilt-for-amd64 on x86_64\n',
    );
  });

  it('a build-platform stage that reads no TARGET* arg runs once for both platforms', {
    timeout: 600_000,
  }, async () => {
    const context = await writeContext(
      'shared',
      [
        'ARG BASE',
        'FROM --platform=$BUILDPLATFORM $BASE AS build',
        'RUN echo built on $(uname -m) > /out',
        'FROM $BASE',
        'COPY --from=build /out /out',
        '',
      ].join('\n'),
    );
    const destination = `${registry.host}/e2e/multi-shared:1`;
    const { events } = await build(context, destination, twoPlatforms);
    expect(runSteps(events, 'build')).toBe(1);
    expect(events.filter((event) => event.type === 'stage-reused')).toEqual([
      expect.objectContaining({ stage: 'build', platform: 'linux/arm64', from: 'linux/amd64' }),
    ]);
    expect(platformsOf(await rawIndex(destination))).toEqual(['linux/amd64', 'linux/arm64']);
    expect(await runOn(destination, 'linux/arm64', 'cat /out')).toBe('built on x86_64\n');
  });

  it('RUN in both platforms: the arm64 one runs through QEMU in the sandbox', {
    timeout: 600_000,
  }, async () => {
    const context = await writeContext(
      'run-both',
      ['ARG BASE', 'FROM $BASE', 'RUN uname -m > /arch', ''].join('\n'),
    );
    const destination = `${registry.host}/e2e/multi-run:1`;
    const { events } = await build(context, destination, twoPlatforms);
    expect(runSteps(events, '0')).toBe(2);
    expect(await runOn(destination, 'linux/arm64', 'cat /arch')).toBe('aarch64\n');
    expect(await runOn(destination, 'linux/amd64', 'cat /arch')).toBe('x86_64\n');
  });

  it('the OCI layout, the tar and the digest files hold and name the index; --image-format docker gives a manifest list', {
    timeout: 600_000,
  }, async () => {
    const context = await writeContext(
      'outputs',
      ['ARG BASE', 'FROM $BASE', 'ARG TARGETARCH', 'RUN echo $TARGETARCH > /arch', ''].join('\n'),
    );
    const destination = `${registry.host}/e2e/multi-outputs:1`;
    const layout = join(work, 'outputs-layout');
    const tar = join(work, 'outputs.tar');
    const digestFile = join(work, 'outputs.digest');
    const nameFile = join(work, 'outputs.name');
    const { events } = await build(context, destination, [
      ...twoPlatforms,
      '--oci-layout-path',
      layout,
      '--tar-path',
      tar,
      '--digest-file',
      digestFile,
      '--image-name-with-digest-file',
      nameFile,
    ]);
    const pushedDigest = (
      await runChecked('skopeo', [
        'inspect',
        '--tls-verify=false',
        '--format',
        '{{.Digest}}',
        `docker://${destination}`,
      ])
    ).trim();
    const digest = (await readFile(digestFile, 'utf8')).trim();
    expect(digest).toBe(pushedDigest);
    expect(await readFile(nameFile, 'utf8')).toBe(`${registry.host}/e2e/multi-outputs@${digest}\n`);
    const done = events.find((event) => event.type === 'image-done')!;
    const index = await rawIndex(destination);
    expect(done).toMatchObject({
      digest,
      platforms: index.manifests.map((m) => ({
        platform: `${m.platform.os}/${m.platform.architecture}`,
        digest: m.digest,
      })),
    });

    const layoutIndex = JSON.parse(
      await runChecked('skopeo', ['inspect', '--raw', `oci:${layout}:1`]),
    ) as IndexJson;
    expect(layoutIndex.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(platformsOf(layoutIndex)).toEqual(['linux/amd64', 'linux/arm64']);
    const layoutArm = JSON.parse(
      await runChecked('skopeo', ['inspect', '--override-arch', 'arm64', `oci:${layout}:1`]),
    ) as { Architecture: string };
    expect(layoutArm.Architecture).toBe('arm64');

    const archiveIndex = JSON.parse(
      await runChecked('skopeo', ['inspect', '--raw', `oci-archive:${tar}:1`]),
    ) as IndexJson;
    expect(platformsOf(archiveIndex)).toEqual(['linux/amd64', 'linux/arm64']);
    const entries = (await runChecked('tar', ['-tf', tar])).split('\n');
    expect(entries).toEqual(expect.arrayContaining(['oci-layout', 'index.json', 'manifest.json']));
    const manifestJson = JSON.parse(await runChecked('tar', ['-xOf', tar, 'manifest.json'])) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    expect(manifestJson).toHaveLength(2);
    expect(manifestJson[0]!.RepoTags).toEqual([destination]);
    for (const image of manifestJson) {
      expect(entries).toContain(image.Config);
      for (const layer of image.Layers) expect(entries).toContain(layer);
    }

    const dockerDestination = `${registry.host}/e2e/multi-outputs:docker`;
    await build(context, dockerDestination, [...twoPlatforms, '--image-format', 'docker']);
    const list = await rawIndex(dockerDestination);
    expect(list.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(list.manifests.map((m) => m.mediaType)).toEqual([
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ]);
    expect(await runOn(dockerDestination, 'linux/arm64', 'cat /arch')).toBe('arm64\n');
  });
});

describe('the container executor (Kiln’s executor image under podman)', () => {
  let executor: ExecutorImageRefs;
  beforeAll(async () => {
    executor = await provideExecutorImages(registry);
  }, 900_000);

  const runExecutor = async (name: string, dockerfile: string, destination: string) => {
    const workspace = await writeContext(`executor-${name}`, dockerfile);
    return podman.podman.run(
      [
        'run',
        '--rm',
        '--volume',
        `${workspace}:/workspace`,
        executor.latest.reference,
        '--platform=linux/amd64,linux/arm64',
        `--build-arg=BASE=${base.reference}`,
        `--destination=${destination}`,
      ],
      { timeoutMs: 600_000 },
    );
  };

  it('refuses a foreign RUN before any work, with its code, line and hint', {
    timeout: 600_000,
  }, async () => {
    const build = await runExecutor(
      'foreign',
      ['ARG BASE', 'FROM $BASE', 'RUN uname -m > /arch', ''].join('\n'),
      `${registry.host}/e2e/multi-executor-foreign:1`,
    );
    const output = build.stdout + build.stderr;
    expect(build.code, output).toBe(2);
    expect(output).toContain(
      'Dockerfile:3: RUN for linux/arm64 cannot run in the container executor, which runs linux/amd64 binaries only',
    );
    expect(output).toContain('FROM --platform=$BUILDPLATFORM');
    // Refused before the amd64 image even started: no step ran, nothing was pushed.
    expect(output).not.toContain('uname');
    const inspect = await runChecked('skopeo', [
      'list-tags',
      '--tls-verify=false',
      `docker://${registry.host}/e2e/multi-executor-foreign`,
    ]).catch((error: Error) => error.message);
    expect(inspect).not.toContain('"1"');
  });

  it('builds the cross-compile pattern for both platforms', { timeout: 600_000 }, async () => {
    const destination = `${registry.host}/e2e/multi-executor-cross:1`;
    const build = await runExecutor(
      'cross',
      [
        'ARG BASE',
        'FROM --platform=$BUILDPLATFORM $BASE AS build',
        'ARG TARGETARCH',
        'RUN echo built-for-$TARGETARCH on $(uname -m) > /out',
        'FROM $BASE',
        'COPY --from=build /out /out',
        '',
      ].join('\n'),
      destination,
    );
    expect(build.code, build.stdout + build.stderr).toBe(0);
    expect(platformsOf(await rawIndex(destination))).toEqual(['linux/amd64', 'linux/arm64']);
    expect(await runOn(destination, 'linux/arm64', 'uname -m; cat /out')).toBe(
      'aarch64\nbuilt-for-arm64 on x86_64\n',
    );
  });
});
