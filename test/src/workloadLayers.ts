import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked } from './kilnProcess.ts';

interface Descriptor {
  digest: string;
}

/**
 * Unpacks the top layer of the single image in an OCI layout with GNU tar (owners, modes, hard links
 * and `security.capability` kept), so a test sees what Kiln's RUN layer holds, read by another tool.
 */
export async function extractLastLayer(layoutDir: string, into: string): Promise<string> {
  const blob = async (digest: string) =>
    JSON.parse(await readFile(join(layoutDir, 'blobs', ...digest.split(':')), 'utf8')) as unknown;
  const indexJson = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as {
    manifests: Descriptor[];
  };
  const [image] = indexJson.manifests;
  if (image === undefined) throw new Error(`${layoutDir}: index.json names no image`);
  const manifest = (await blob(image.digest)) as { layers: Descriptor[] };
  const top = manifest.layers.at(-1);
  if (top === undefined) throw new Error(`${layoutDir}: image has no layers`);
  await mkdir(into, { recursive: true });
  await runChecked('tar', [
    '--extract',
    '--same-owner',
    '--preserve-permissions',
    '--numeric-owner',
    '--xattrs',
    '--xattrs-include=security.capability',
    '--file',
    join(layoutDir, 'blobs', ...top.digest.split(':')),
    '--directory',
    into,
  ]);
  return into;
}
