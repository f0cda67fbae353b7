import { join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { contextsDir, runChecked, runKiln, skopeoInspect, unpackWithUmoci } from './kilnProcess.ts';
import { listTree, type TreeEntry } from './treeListing.ts';

let registry: TestRegistry;
let base: PushedImage;
let work: string;

beforeAll(async () => {
  ({ registry, base, work } = await startBusyboxRegistry('kiln-e2e-buildah-'));
});
afterAll(() => stopBusyboxRegistry({ registry, work }));

/** buildah with its storage in a temp dir (vfs, chroot isolation): nothing of the machine's is touched. */
function buildah(args: string[]): Promise<string> {
  return runChecked('buildah', [
    '--root',
    join(work, 'buildah-root'),
    '--runroot',
    join(work, 'buildah-run'),
    '--storage-driver',
    'vfs',
    ...args,
  ]);
}

const comparedConfigFields = [
  'Env',
  'Entrypoint',
  'Cmd',
  'WorkingDir',
  'User',
  'ExposedPorts',
  'Volumes',
  'StopSignal',
  'Healthcheck',
  'OnBuild',
  'Shell',
];

interface RawConfig {
  config: Record<string, unknown> & { Labels?: Record<string, string> };
  history: { empty_layer?: boolean }[];
  rootfs: { diff_ids: string[] };
}

async function rawConfig(reference: string): Promise<RawConfig> {
  const result = await skopeoInspect(reference, true);
  if (result.code !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as RawConfig;
}

// What differs for reasons outside the Dockerfile: buildah's mount points for the run sandbox.
const buildahOnly = new Set(['etc/hosts', 'etc/resolv.conf', 'run', 'run/.containerenv', 'etc/hostname']);

describe('kiln and buildah build the same image from the same Dockerfile', () => {
  it('same tree (content, modes, owners, links) and same config fields', { timeout: 300_000 }, async () => {
    const context = join(contextsDir, 'everything');
    const kilnRef = `${registry.host}/parity/kiln:latest`;
    const buildahRef = `${registry.host}/parity/buildah:latest`;
    const kiln = await runKiln([
      'build',
      '--context',
      context,
      '--build-arg',
      `BASE=${base.reference}`,
      '--destination',
      kilnRef,
      '--insecure-registry',
      registry.host,
    ]);
    expect(kiln.code, kiln.stderr).toBe(0);
    await buildah([
      'bud',
      '--isolation',
      'chroot',
      '--format',
      'docker',
      '--tls-verify=false',
      '--build-arg',
      `BASE=${base.reference}`,
      '-f',
      join(context, 'Dockerfile'),
      '-t',
      'localhost/parity',
      context,
    ]);
    await buildah(['push', '--tls-verify=false', 'localhost/parity', `docker://${buildahRef}`]);

    const [kilnConfig, buildahConfig] = await Promise.all([rawConfig(kilnRef), rawConfig(buildahRef)]);
    for (const field of comparedConfigFields) {
      expect({ field, value: kilnConfig.config[field] }).toEqual({
        field,
        value: buildahConfig.config[field],
      });
    }
    const { 'io.buildah.version': _version, ...buildahLabels } = buildahConfig.config.Labels ?? {};
    expect(kilnConfig.config.Labels).toEqual(buildahLabels);

    const [kilnTree, buildahTree] = await Promise.all([
      unpackWithUmoci(`docker://${kilnRef}`, join(work, 'kiln-tree')).then((root) => listTree(root)),
      unpackWithUmoci(`docker://${buildahRef}`, join(work, 'buildah-tree')).then((root) => listTree(root)),
    ]);
    const differences: string[] = [];
    const paths = new Set([...kilnTree.keys(), ...buildahTree.keys()]);
    for (const path of [...paths].sort()) {
      if (buildahOnly.has(path)) continue;
      const ours = kilnTree.get(path);
      const theirs = buildahTree.get(path);
      if (!sameEntry(ours, theirs))
        differences.push(`${path}: kiln ${describeEntry(ours)} buildah ${describeEntry(theirs)}`);
    }
    expect(differences).toEqual([]);
  });
});

function sameEntry(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeEntry(entry: TreeEntry | undefined): string {
  if (!entry) return '(absent)';
  return `${entry.type} ${entry.mode.toString(8)} ${entry.uid}:${entry.gid}${entry.target ? ` -> ${entry.target}` : ''}${entry.content !== undefined ? ` ${JSON.stringify(entry.content.slice(0, 40))}` : ''}`;
}
