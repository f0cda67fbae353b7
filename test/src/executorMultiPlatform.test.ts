import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildExecutorImage, type ExecutorImages } from '@kiln/executor-image';
import { ensureMultiArchBusyboxImage } from '@kiln/fixtures/images';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PodmanTestbed, startPodmanTestbed } from './executor/executorTestbed.ts';
import { repoRoot, runChecked } from './kilnProcess.ts';

// Issue 21 part 3: the executor image as an index for linux/amd64 and linux/arm64. The arm64 image runs
// here through qemu-user-static (binfmt_misc, scripts/bootstrap.sh): slow, hence one build only.
let testbed: PodmanTestbed;
let registry: TestRegistry;
let images: ExecutorImages;
let kilnVersion: string;
beforeAll(async () => {
  testbed = await startPodmanTestbed('multi-platform');
  registry = await startRegistry({ mode: 'plain' });
  images = await buildExecutorImage({
    registry,
    repository: 'kiln/executor-multi',
    architectures: ['amd64', 'arm64'],
    contextDir: join(testbed.work, 'executor-context'),
  });
  kilnVersion = (
    JSON.parse(await readFile(join(repoRoot, 'packages/cli/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}, 900_000);
afterAll(async () => {
  await registry?.stop();
  await testbed?.stop();
});

interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  platform: { architecture: string; os: string };
}

const inspectRaw = async (reference: string, config = false) =>
  JSON.parse(
    await runChecked('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--raw',
      ...(config ? ['--config'] : []),
      `docker://${reference}`,
    ]),
  ) as Record<string, unknown>;

describe('the executor image for linux/amd64 and linux/arm64', () => {
  it('pushes :latest and :debug as OCI image indexes naming one image per platform', async () => {
    const repository = `${registry.host}/kiln/executor-multi`;
    for (const variant of ['latest', 'debug'] as const) {
      const index = await inspectRaw(images[variant].reference);
      expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      const entries = index.manifests as IndexEntry[];
      expect(entries.map((entry) => `${entry.platform.os}/${entry.platform.architecture}`)).toEqual([
        'linux/amd64',
        'linux/arm64',
      ]);
      for (const entry of entries) {
        const platform = images.platforms.find((p) => p.architecture === entry.platform.architecture)!;
        expect(entry.digest).toBe(platform[variant].digest);
        expect(entry.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
        // Each platform's config says its architecture, and its layers differ from the other's.
        const config = await inspectRaw(`${repository}@${entry.digest}`, true);
        expect(config).toMatchObject({ architecture: entry.platform.architecture, os: 'linux' });
      }
      expect(entries[0]!.digest).not.toBe(entries[1]!.digest);
    }
  });

  it('runs each platform’s kiln --version; arm64 through qemu (figures printed)', {
    timeout: 600_000,
  }, async () => {
    const seconds: Record<string, number> = {};
    for (const architecture of ['amd64', 'arm64']) {
      const platform = `linux/${architecture}`;
      const pull = await testbed.podman.run(
        ['pull', '--quiet', '--platform', platform, images.debug.reference],
        {
          timeoutMs: 300_000,
        },
      );
      expect(pull.code, pull.stderr).toBe(0);
      // The debug image's busybox and Node say which variant podman picked from the index.
      const machine = await testbed.podman.run(
        [
          'run',
          '--rm',
          '--platform',
          platform,
          '--entrypoint',
          '/busybox/sh',
          images.debug.reference,
          '-c',
          'uname -m && /kiln/node -p process.arch',
        ],
        { timeoutMs: 300_000 },
      );
      expect(machine.stdout).toBe(architecture === 'arm64' ? 'aarch64\narm64\n' : 'x86_64\nx64\n');
      const started = Date.now();
      const version = await testbed.podman.run(
        [
          'run',
          '--rm',
          '--platform',
          platform,
          '--entrypoint',
          '/kiln/kiln',
          images.debug.reference,
          '--version',
        ],
        { timeoutMs: 300_000 },
      );
      seconds[architecture] = (Date.now() - started) / 1000;
      expect(version.stderr).toBe('');
      expect(version).toMatchObject({ code: 0, stdout: `${kilnVersion}\n` });
    }
    console.info(
      `podman run kiln --version: amd64 ${seconds.amd64!.toFixed(2)} s, arm64 (qemu) ${seconds.arm64!.toFixed(2)} s`,
    );
  });

  it('the arm64 executor builds under emulation: COPY and RUN on a two-platform busybox base, pushed as arm64', {
    timeout: 900_000,
  }, async () => {
    // The two-platform busybox: the arm64 executor picks its own platform's image.
    const base = await ensureMultiArchBusyboxImage(registry);
    const workspace = join(testbed.work, 'workspace-arm64');
    await mkdir(workspace, { recursive: true });
    await writeFile(join(workspace, 'greeting'), 'copied in\n');
    await writeFile(
      join(workspace, 'Dockerfile'),
      `FROM ${base.reference}\nCOPY greeting /greeting\nRUN cat /greeting > /built && uname -m >> /built\nCMD ["cat", "/built"]\n`,
    );
    const destination = `${registry.host}/out/arm64-hello:1`;
    const started = Date.now();
    const build = await testbed.podman.run(
      [
        'run',
        '--rm',
        '--platform',
        'linux/arm64',
        '--volume',
        `${workspace}:/workspace`,
        images.latest.reference,
        '--dockerfile=Dockerfile',
        `--destination=${destination}`,
        `--insecure-registry=${registry.host}`,
      ],
      { timeoutMs: 900_000 },
    );
    const output = build.stdout + build.stderr;
    console.info(`arm64 executor build under qemu: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(output).not.toMatch(/internal error/i);
    expect(build.code, output).toBe(0);
    const config = await inspectRaw(destination, true);
    expect(config).toMatchObject({ architecture: 'arm64', os: 'linux' });
    expect((config.rootfs as { diff_ids: string[] }).diff_ids).toHaveLength(3);
    const run = await testbed.podman.run(['run', '--rm', '--platform', 'linux/arm64', destination], {
      timeoutMs: 300_000,
    });
    expect(run).toMatchObject({ code: 0, stdout: 'copied in\naarch64\n' });
  });
});
