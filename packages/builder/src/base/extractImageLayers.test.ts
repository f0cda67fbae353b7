import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '@kiln/image';
import { changeSetFromTree, type LayerEvent, writeLayer } from '@kiln/layer';
import { afterEach, expect, it } from 'vitest';
import { extractImageLayers } from './extractImageLayers.ts';

const dirs: string[] = [];
const previousHelper = process.env.KILN_XATTR_HELPER;
afterEach(async () => {
  if (previousHelper === undefined) delete process.env.KILN_XATTR_HELPER;
  else process.env.KILN_XATTR_HELPER = previousHelper;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-extract-events-'));
  dirs.push(dir);
  return dir;
}

it('hands the extractor’s events to its listener: the xattrs it could not restore among them', async () => {
  const tree = await tempDir();
  await writeFile(join(tree, 'ping'), 'elf');
  const changeSet = changeSetFromTree(tree);
  // An xattr in the layer, as a base image's files may carry (a capability, an SELinux label).
  const ping = changeSet.changes.find((change) => change.path === 'ping')!;
  ping.entry!.xattrs = { 'user.kiln': Buffer.from('1') };
  const store = new BlobStore(await tempDir());
  const written = await writeLayer(changeSet, tree, { store, compression: 'gzip' });
  const layer = {
    descriptor: { mediaType: written.mediaType, digest: written.digest, size: written.size },
    diffId: written.diffId,
  };

  // No helper to set xattrs with: the file is extracted, and the listener hears what was skipped.
  process.env.KILN_XATTR_HELPER = join(tree, 'no-such-helper');
  const root = await tempDir();
  const events: LayerEvent[] = [];
  await extractImageLayers([layer], root, store, [], { onEvent: (event) => events.push(event) });
  expect(await readFile(join(root, 'ping'), 'utf8')).toBe('elf');
  expect(events).toContainEqual({
    type: 'extract-xattr-skipped',
    path: 'ping',
    names: ['user.kiln'],
    reason: expect.stringContaining('xattr helper failed'),
  });
  expect(events).toContainEqual(expect.objectContaining({ type: 'layer-extracted' }));
});
