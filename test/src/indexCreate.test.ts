import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureMultiArchBusyboxImage, type PushedImage } from '@kiln/fixtures/images';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { type PodmanTestbed, startPodmanTestbed } from './executor/executorTestbed.ts';
import { runChecked, runKiln } from './kilnProcess.ts';

// The fleet recipe: each architecture built on its own (here with --custom-platform, COPY only, so
// nothing is emulated), pushed to its own tag, then joined by `kiln index create`.
let registry: TestRegistry;
let secured: TestRegistry;
let base: PushedImage;
let work: string;
let podman: PodmanTestbed;
let app: string;
const perArch: Record<string, string> = {};

interface IndexJson {
  mediaType: string;
  manifests: { mediaType: string; digest: string; platform: { os: string; architecture: string } }[];
}

async function raw(reference: string, extra: string[] = ['--tls-verify=false']): Promise<string> {
  return runChecked('skopeo', ['inspect', '--raw', ...extra, `docker://${reference}`]);
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const platformsOf = (index: IndexJson) =>
  index.manifests.map((m) => [`${m.platform.os}/${m.platform.architecture}`, m.digest]);

async function indexCreate(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runKiln(['index', 'create', '--insecure-registry', registry.host, ...args], env);
}

beforeAll(async () => {
  ({ registry, work } = await startBusyboxRegistry('kiln-e2e-index-'));
  base = await ensureMultiArchBusyboxImage(registry);
  secured = await startRegistry({ mode: 'basic', tls: true });
  podman = await startPodmanTestbed('index-create');
  await podman.podman.allowInsecureRegistries([registry.host]);
  const context = join(work, 'context');
  await mkdir(context, { recursive: true });
  await writeFile(join(context, 'Dockerfile'), 'ARG BASE\nFROM $BASE\nCOPY hello /hello\n');
  await writeFile(join(context, 'hello'), 'hello from the fleet\n');
  app = `${registry.host}/e2e/fleet`;
  for (const arch of ['amd64', 'arm64']) {
    perArch[arch] = await buildFor(arch, `${app}:1-${arch}`);
  }
}, 600_000);

/** Builds the context for one architecture, pushes it, and returns its manifest digest. */
async function buildFor(arch: string, destination: string, extra: string[] = []): Promise<string> {
  const result = await runKiln([
    'build',
    '--context',
    join(work, 'context'),
    '--build-arg',
    `BASE=${base.reference}`,
    '--custom-platform',
    `linux/${arch}`,
    '--destination',
    destination,
    '--insecure-registry',
    registry.host,
    ...extra,
  ]);
  expect(result.code, result.stderr).toBe(0);
  return sha256(await raw(destination));
}
afterAll(async () => {
  await podman?.stop();
  await secured?.stop();
  await stopBusyboxRegistry({ registry, work });
});

describe('kiln index create', () => {
  it('joins per-architecture images into an index each platform runs from', {
    timeout: 600_000,
  }, async () => {
    const digestFile = join(work, 'digest');
    const result = await indexCreate([
      '--tag',
      `${app}:1`,
      '--digest-file',
      digestFile,
      `${app}:1-amd64`,
      `${app}:1-arm64`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const text = await raw(`${app}:1`);
    const digest = sha256(text);
    expect(result.stdout.split('\n')[0]).toBe(digest);
    expect(await readFile(digestFile, 'utf8')).toBe(digest);
    const index = JSON.parse(text) as IndexJson;
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(platformsOf(index)).toEqual([
      ['linux/amd64', perArch.amd64],
      ['linux/arm64', perArch.arm64],
    ]);
    for (const [platform, uname] of [
      ['linux/arm64', 'aarch64'],
      ['linux/amd64', 'x86_64'],
    ] as const) {
      const run = await podman.podman.run(
        [
          'run',
          '--rm',
          '--pull',
          'always',
          '--platform',
          platform,
          `${app}:1`,
          'sh',
          '-c',
          'uname -m; cat /hello',
        ],
        { timeoutMs: 300_000 },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(`${uname}\nhello from the fleet\n`);
    }
  });

  it('--dry-run prints the index bytes and pushes nothing', async () => {
    const result = await indexCreate([
      '--dry-run',
      '--tag',
      `${app}:dry`,
      `${app}:1-amd64`,
      `${app}:1-arm64`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const index = JSON.parse(result.stdout) as IndexJson;
    expect(platformsOf(index).map(([platform]) => platform)).toEqual(['linux/amd64', 'linux/arm64']);
    const missing = await runKiln(['pull', `${app}:dry`, '--oci-layout', join(work, 'dry'), '--insecure']);
    expect(missing.code).not.toBe(0);
  });

  it('copies sources from another repository and flattens an index source', {
    timeout: 300_000,
  }, async () => {
    // `e2e/fleet:joined` (an index) and the per-arch tags live in e2e/fleet; the index goes to e2e/other.
    const joined = await indexCreate(['--tag', `${app}:joined`, `${app}:1-amd64`, `${app}:1-arm64`]);
    expect(joined.code, joined.stderr).toBe(0);
    const other = `${registry.host}/e2e/other:1`;
    const result = await indexCreate(['--tag', other, `${app}:joined`]);
    expect(result.code, result.stderr).toBe(0);
    const index = JSON.parse(await raw(other)) as IndexJson;
    expect(index.manifests.map((m) => m.mediaType)).toEqual([
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
    ]);
    expect(platformsOf(index)).toEqual([
      ['linux/amd64', perArch.amd64],
      ['linux/arm64', perArch.arm64],
    ]);
    // Every manifest and blob the index names resolves in e2e/other itself.
    await runChecked('skopeo', [
      'copy',
      '--all',
      '--src-tls-verify=false',
      `docker://${other}`,
      `oci:${join(work, 'other-layout')}:1`,
    ]);
  });

  it('joins Docker v2 images into a Docker manifest list; refuses Docker mixed with OCI', {
    timeout: 300_000,
  }, async () => {
    const docker = ['--image-format', 'docker'];
    const amd64 = await buildFor('amd64', `${app}:docker-amd64`, docker);
    const arm64 = await buildFor('arm64', `${app}:docker-arm64`, docker);
    const result = await indexCreate([
      '--tag',
      `${app}:docker`,
      `${app}:docker-amd64`,
      `${app}:docker-arm64`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const list = JSON.parse(await raw(`${app}:docker`)) as IndexJson;
    expect(list.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(platformsOf(list)).toEqual([
      ['linux/amd64', amd64],
      ['linux/arm64', arm64],
    ]);
    const mixed = await indexCreate(['--tag', `${app}:mixed`, `${app}:1-amd64`, `${app}:docker-arm64`]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(
      /^error: the sources mix OCI manifests \(.*:1-amd64\) and Docker v2 manifests \(.*:docker-arm64\)$/m,
    );
  });

  it('refuses two images for one platform: exit 2, one error line', async () => {
    const result = await indexCreate(['--tag', `${app}:dup`, `${app}:1-arm64`, base.reference]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('error: '))).toEqual([
      expect.stringMatching(
        /^error: linux\/arm64 twice: .*e2e\/fleet:1-arm64 \(sha256:[a-f0-9]{64}\) and .*busybox-multi/,
      ),
    ]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('pushes to a Basic-auth TLS registry with credentials from the Docker config', {
    timeout: 300_000,
  }, async () => {
    const destination = `${secured.host}/e2e/fleet:1`;
    const result = await indexCreate(
      [
        '--tag',
        destination,
        '--registry-certificate',
        `${secured.host}=${secured.caFile}`,
        `${app}:1-amd64`,
        `${app}:1-arm64`,
      ],
      { DOCKER_CONFIG: await secured.dockerConfig() },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain(secured.password!);
    const auth = [`--creds=${secured.username}:${secured.password}`, `--cert-dir=${secured.certDir}`];
    const index = JSON.parse(await raw(destination, auth)) as IndexJson;
    expect(platformsOf(index)).toEqual([
      ['linux/amd64', perArch.amd64],
      ['linux/arm64', perArch.arm64],
    ]);
    await runChecked('skopeo', [
      'copy',
      '--all',
      ...auth.map((flag) => flag.replace('--', '--src-')),
      `docker://${destination}`,
      `oci:${join(work, 'secured-layout')}:1`,
    ]);
  });
});
