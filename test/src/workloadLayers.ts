import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contextsDir, runChecked } from './kilnProcess.ts';

interface Descriptor {
  digest: string;
}

/**
 * Unpacks the layer of the step whose history `created_by` contains `step`, from the single image in an
 * OCI layout, with GNU tar (owners, modes, hard links and `security.capability` kept), so a test sees
 * what Kiln's layer holds, read by another tool.
 */
export async function extractStepLayer(layoutDir: string, step: string, into: string): Promise<string> {
  const blobPath = (digest: string) => join(layoutDir, 'blobs', ...digest.split(':'));
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as {
    manifests: Descriptor[];
  };
  const [image] = index.manifests;
  if (image === undefined) throw new Error(`${layoutDir}: index.json names no image`);
  const manifest = JSON.parse(await readFile(blobPath(image.digest), 'utf8')) as {
    config: Descriptor;
    layers: Descriptor[];
  };
  const config = JSON.parse(await readFile(blobPath(manifest.config.digest), 'utf8')) as {
    history: { created_by?: string; empty_layer?: boolean }[];
  };
  // History entries with a layer line up with the manifest's layers.
  const layered = config.history.filter((entry) => !entry.empty_layer);
  const position = layered.findIndex((entry) => entry.created_by?.includes(step));
  const layer = manifest.layers[position];
  if (position < 0 || layer === undefined) throw new Error(`${layoutDir}: no layer made by ${step}`);
  await mkdir(into, { recursive: true });
  await runChecked('tar', [
    '--extract',
    '--same-owner',
    '--preserve-permissions',
    '--numeric-owner',
    '--xattrs',
    '--xattrs-include=security.capability',
    '--file',
    blobPath(layer.digest),
    '--directory',
    into,
  ]);
  return into;
}

/** The script both workloads run in their last RUN and again under podman (`contexts/workload-shared`). */
export const listTreeScript = join(contextsDir, 'workload-shared/list-tree.sh');

/**
 * Lines of `listTreeScript`'s output that differ between the build's RUN and a container of the
 * pushed image, each marked `-` (only at build) or `+` (only at run); empty when the image kept all.
 */
export function treeDifferences(atBuild: string, atRun: string): string[] {
  const before = new Set(atBuild.split('\n'));
  const after = new Set(atRun.split('\n'));
  return [
    ...[...before].filter((line) => !after.has(line)).map((line) => `- ${line}`),
    ...[...after].filter((line) => !before.has(line)).map((line) => `+ ${line}`),
  ];
}
