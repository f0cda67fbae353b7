import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked } from '@kiln/fixtures/images';
import type { PodmanEnvironment } from '@kiln/fixtures/podman';
import type { TestRegistry } from '@kiln/fixtures/registry';

interface Descriptor {
  digest: string;
  size: number;
}

/** skopeo's flags for reading from `registry` (`src` for copy's source, `''` for inspect). */
export function skopeoReadFlags(registry: TestRegistry, side: 'src' | '' = ''): string[] {
  const flag = (name: string) => (side === '' ? `--${name}` : `--${side}-${name}`);
  const tls =
    registry.certDir === undefined ? [`${flag('tls-verify')}=false`] : [flag('cert-dir'), registry.certDir];
  const creds =
    registry.username === undefined ? [] : [flag('creds'), `${registry.username}:${registry.password}`];
  return [...tls, ...creds];
}

/** The image's manifest as the registry serves it (`skopeo inspect --raw`). */
export async function readManifest(
  registry: TestRegistry,
  reference: string,
): Promise<{ mediaType?: string; config: Descriptor; layers: Descriptor[] }> {
  return JSON.parse(
    await runChecked('skopeo', ['inspect', '--raw', ...skopeoReadFlags(registry), `docker://${reference}`]),
  );
}

/** The image's config (`skopeo inspect --config`). */
export async function readImageConfig(
  registry: TestRegistry,
  reference: string,
): Promise<{ config: { Cmd?: string[]; User?: string }; rootfs: { diff_ids: string[] } }> {
  return JSON.parse(
    await runChecked('skopeo', [
      'inspect',
      '--config',
      '--raw',
      ...skopeoReadFlags(registry),
      `docker://${reference}`,
    ]),
  );
}

/** Every path in every layer of the pushed image, as `tar -t` lists it (without a leading `./`). */
export async function listLayerPaths(
  registry: TestRegistry,
  reference: string,
  work: string,
): Promise<string[]> {
  const dir = await mkdtemp(join(work, 'layers-'));
  try {
    await runChecked('skopeo', [
      'copy',
      '--quiet',
      ...skopeoReadFlags(registry, 'src'),
      `docker://${reference}`,
      `dir:${dir}`,
    ]);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      layers: Descriptor[];
    };
    const paths: string[] = [];
    for (const layer of manifest.layers) {
      const listing = await runChecked('tar', [
        '-t',
        '-z',
        '-f',
        join(dir, layer.digest.replace(/^sha256:/, '')),
      ]);
      paths.push(
        ...listing
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => line.replace(/^\.\//, '')),
      );
    }
    return paths;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Paths under the executor image's own top-level dirs: none may reach an image it built. */
export function executorOwnPaths(paths: string[]): string[] {
  return paths.filter((path) => /^(kiln|kaniko|busybox)(\/|$)/.test(path));
}

/** Pulls `reference` with the registry's credentials and runs it; its stdout is what the image prints. */
export async function runPushedImage(
  podman: PodmanEnvironment,
  registry: TestRegistry,
  reference: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const creds =
    registry.username === undefined ? [] : ['--creds', `${registry.username}:${registry.password}`];
  const pull = await podman.run(['pull', '--quiet', ...creds, reference], { timeoutMs: 300_000 });
  if (pull.code !== 0) throw new Error(`podman pull ${reference} failed: ${pull.stderr}`);
  return podman.run(['run', '--rm', reference], { timeoutMs: 120_000 });
}

/** The manifest digest the registry serves for `reference`. */
export async function readDigest(registry: TestRegistry, reference: string): Promise<string> {
  const digest = await runChecked('skopeo', [
    'inspect',
    '--format',
    '{{.Digest}}',
    ...skopeoReadFlags(registry),
    `docker://${reference}`,
  ]);
  return digest.trim();
}
