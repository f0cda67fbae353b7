import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '@kiln/image';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LayerRecorder } from './layerRecorder.ts';

let dir: string;
let root: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-recorder-'));
  root = join(dir, 'root');
  await mkdir(join(root, 'root/.cache'), { recursive: true });
  await writeFile(join(root, 'root/.cache/from-image'), 'image');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const recorder = () =>
  new LayerRecorder({
    store: new BlobStore(join(dir, 'blobs')),
    strategy: 'metadata',
    ignore: [],
    compression: 'gzip',
  });

describe('LayerRecorder.recordDiff', () => {
  it("leaves a RUN's mount targets out of its layer: what was moved aside and back differs only in time", async () => {
    const touchedAside = async () => {
      // What container mode's move aside and back leaves: the same content with a new ctime.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await chmod(join(root, 'root/.cache/from-image'), 0o644);
      await writeFile(join(root, 'written-by-run'), 'kept');
    };
    const plain = recorder();
    await plain.ensureBaseline(root);
    await touchedAside();
    expect((await plain.recordDiff(root)).changes).toBe(2);

    await rm(join(root, 'written-by-run'));
    const withMounts = recorder();
    await withMounts.ensureBaseline(root);
    await touchedAside();
    expect((await withMounts.recordDiff(root, ['/root/.cache'])).changes).toBe(1);
  });
});
