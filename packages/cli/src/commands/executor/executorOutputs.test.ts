import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../../testing/captureOutput.ts';
import { createBuildCommand } from '../build/buildCommand.ts';
import { createExecutorCommand } from './executorCommand.ts';

const run = promisify(execFile);
let dir: string;
let registry: TestRegistry;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-executor-outputs-'));
  registry = await startRegistry({ mode: 'plain' });
});
afterAll(async () => {
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function context(dockerfile: string): Promise<string> {
  const ctx = await mkdtemp(join(dir, 'ctx-'));
  await writeFile(join(ctx, 'Dockerfile'), dockerfile);
  await writeFile(join(ctx, 'hello.txt'), 'hello\n');
  return ctx;
}

async function executor(args: string[]): Promise<void> {
  const command = createExecutorCommand(captureOutput(), '/nonexistent-workspace', {}).exitOverride();
  await command.parseAsync(['--reproducible', '-v', 'warn', ...args], { from: 'user' });
}

async function kilnBuild(args: string[]): Promise<void> {
  const command = createBuildCommand(captureOutput()).exitOverride();
  await command.parseAsync(['--reproducible', '-v', 'warn', ...args], { from: 'user' });
}

async function manifestOf(
  layout: string,
  tag: string,
): Promise<{ mediaType?: string; config: { mediaType: string } }> {
  const { stdout } = await run('skopeo', ['inspect', '--raw', `oci:${layout}:${tag}`]);
  return JSON.parse(stdout);
}

describe('outputs as Kaniko pipelines read them', () => {
  it('--oci-layout-path names every destination tag, so skopeo and umoci find the image by tag', async () => {
    const ctx = await context('FROM scratch\nCOPY hello.txt /hello.txt\n');
    const layout = join(dir, 'layout-tags');
    await executor([
      `--context=${ctx}`,
      '--no-push',
      `--oci-layout-path=${layout}`,
      '--image-format=oci',
      `--destination=${registry.host}/app:v1`,
      `--destination=${registry.host}/app:v2`,
    ]);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    expect(
      index.manifests.map(
        (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
      ),
    ).toEqual(['v1', 'v2']);
    await run('skopeo', ['copy', `oci:${layout}:v1`, `dir:${join(dir, 'copied')}`]);
    const bundle = join(dir, 'bundle');
    await run('umoci', ['unpack', '--image', `${layout}:v2`, bundle]);
    expect(await readFile(join(bundle, 'rootfs/hello.txt'), 'utf8')).toBe('hello\n');
  });

  it('names the image `latest` when the build has no destination', async () => {
    const ctx = await context('FROM scratch\nCOPY hello.txt /hello.txt\n');
    const layout = join(dir, 'layout-latest');
    await executor([`--context=${ctx}`, '--no-push', `--oci-layout-path=${layout}`]);
    await run('skopeo', ['inspect', '--raw', `oci:${layout}:latest`]);
  });

  it('kiln executor writes Docker v2 unless the base is OCI (as Kaniko); kiln build writes OCI; --image-format chooses', async () => {
    const scratch = await context('FROM scratch\nCOPY hello.txt /hello.txt\n');
    await executor([`--context=${scratch}`, `--destination=${registry.host}/fmt:executor`]);
    const docker = await registryManifest('fmt', 'executor');
    expect(docker.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(docker.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    expect(docker.layers[0]?.mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');

    await kilnBuild([`--context=${scratch}`, `--destination=${registry.host}/fmt:build`]);
    expect((await registryManifest('fmt', 'build')).mediaType).toBe(
      'application/vnd.oci.image.manifest.v1+json',
    );

    // An OCI base (kiln build's own output) keeps the executor's image OCI.
    const onOci = await context(`FROM ${registry.host}/fmt:build\nCOPY hello.txt /again.txt\n`);
    await executor([`--context=${onOci}`, `--destination=${registry.host}/fmt:on-oci`]);
    expect((await registryManifest('fmt', 'on-oci')).mediaType).toBe(
      'application/vnd.oci.image.manifest.v1+json',
    );

    await executor([
      `--context=${onOci}`,
      `--destination=${registry.host}/fmt:forced`,
      '--image-format=docker',
    ]);
    const forced = await registryManifest('fmt', 'forced');
    expect(forced.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(forced.layers.map((layer) => layer.mediaType)).toEqual([
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
    ]);

    // The OCI layout of a Docker v2 image holds it under OCI media types: skopeo reads nothing else.
    const layout = join(dir, 'layout-docker');
    await executor([`--context=${scratch}`, '--no-push', `--oci-layout-path=${layout}`]);
    expect((await manifestOf(layout, 'latest')).mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });

  it('zstd layers make the executor’s image OCI (Docker v2 cannot name them); --image-format docker refuses them', async () => {
    const scratch = await context('FROM scratch\nCOPY hello.txt /hello.txt\n');
    await executor([`--context=${scratch}`, `--destination=${registry.host}/zstd:1`, '--compression=zstd']);
    const manifest = await registryManifest('zstd', '1');
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.layers[0]?.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    await expect(
      executor([`--context=${scratch}`, '--no-push', '--compression=zstd', '--image-format=docker']),
    ).rejects.toMatchObject({ code: 'ZSTD_NEEDS_OCI' });
  });

  it('--image-fs-extract-retry extracts again, fetching anew a base blob the shared store held corrupt', {
    timeout: 60_000,
  }, async () => {
    const cacheDir = join(dir, 'shared-store');
    const base = await context('FROM scratch\nCOPY hello.txt /hello.txt\n');
    await kilnBuild([
      `--context=${base}`,
      `--destination=${registry.host}/extract/base:1`,
      `--cache-dir=${cacheDir}`,
    ]);
    const { layers } = (await registryManifest('extract/base', '1')) as unknown as {
      layers: Array<{ digest: string }>;
    };
    const blob = join(cacheDir, 'blobs/sha256', layers[0]!.digest.slice('sha256:'.length));
    // Same length, one byte flipped in the middle: only the digest check can tell.
    const corrupted = await readFile(blob);
    corrupted[Math.floor(corrupted.length / 2)]! ^= 0xff;
    const onBase = await context(`FROM ${registry.host}/extract/base:1\nCOPY hello.txt /again.txt\n`);
    await writeFile(blob, corrupted);
    const failed = await executor([`--context=${onBase}`, '--no-push', `--cache-dir=${cacheDir}`]).catch(
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({ code: 'BLOB_CORRUPT' });
    await writeFile(blob, corrupted);
    await executor([
      `--context=${onBase}`,
      '--no-push',
      `--cache-dir=${cacheDir}`,
      '--image-fs-extract-retry=1',
    ]);
  });

  it('--annotation sets manifest annotations (OCI), and is refused for a Docker v2 image', async () => {
    const scratch = await context('FROM scratch\nCOPY hello.txt /hello.txt\n');
    await executor([
      `--context=${scratch}`,
      `--destination=${registry.host}/annotated:1`,
      '--image-format=oci',
      '--annotation=org.opencontainers.image.source=https://example.com/repo',
      '--annotation=team=platform',
    ]);
    const manifest = (await registryManifest('annotated', '1')) as { annotations?: Record<string, string> };
    expect(manifest.annotations).toEqual({
      'org.opencontainers.image.source': 'https://example.com/repo',
      team: 'platform',
    });
    await expect(
      executor([`--context=${scratch}`, '--no-push', '--annotation=team=platform']),
    ).rejects.toMatchObject({ code: 'ANNOTATIONS_NEED_OCI' });
  });
});

async function registryManifest(
  repository: string,
  tag: string,
): Promise<{ mediaType: string; config: { mediaType: string }; layers: Array<{ mediaType: string }> }> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    headers: {
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  return (await response.json()) as never;
}
