import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '@kiln/image';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeSetFromTree } from './changeSetFromTree.ts';
import { createGzipPool } from './gzipPool.ts';
import { writeLayer } from './writeLayer.ts';

let dir: string;
let store: BlobStore;
let root: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-gzippool-'));
  store = new BlobStore(join(dir, 'store'));
  root = join(dir, 'root');
  mkdirSync(root);
  // Several 1 MiB tar blocks, so two threads compress in the pool.
  writeFileSync(join(root, 'big'), Buffer.alloc(3 << 20, 'k'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('createGzipPool', () => {
  it('serves several layers, gives the blob one thread gives, and stays open until closed', async () => {
    const pool = createGzipPool({ threads: 2 });
    try {
      const first = await writeLayer(changeSetFromTree(root), root, { store, sourceDateEpoch: 0, pool });
      const second = await writeLayer(changeSetFromTree(root), root, { store, sourceDateEpoch: 0, pool });
      const inline = await writeLayer(changeSetFromTree(root), root, {
        store,
        sourceDateEpoch: 0,
        threads: 1,
      });
      expect(second.digest).toBe(first.digest);
      expect(inline.digest).toBe(first.digest);
      expect(pool.closed).toBe(false);
    } finally {
      await pool.close();
    }
    expect(pool.closed).toBe(true);
  });

  it('can be closed twice, used or not', async () => {
    const unused = createGzipPool();
    await unused.close();
    await unused.close();
    const used = createGzipPool({ threads: 2 });
    await writeLayer(changeSetFromTree(root), root, { store, pool: used });
    await Promise.all([used.close(), used.close()]);
    await used.close();
    expect(used.closed).toBe(true);
  });

  it('refuses work after close with a coded error, and a layer write says so', async () => {
    const pool = createGzipPool({ threads: 2 });
    await writeLayer(changeSetFromTree(root), root, { store, pool });
    await pool.close();
    await expect(pool.compress(new Uint8Array(16), 1)).rejects.toMatchObject({ code: 'LAYER_POOL_CLOSED' });
    await expect(writeLayer(changeSetFromTree(root), root, { store, pool })).rejects.toMatchObject({
      code: 'LAYER_POOL_CLOSED',
    });
  });
});
