import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '@kiln/image';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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

  it('sizes each block’s output buffer from the member before it, with the same bytes', async () => {
    // 16 blocks of text that compress about 200:1: a block-sized output buffer each would be 16 MiB.
    writeFileSync(join(root, 'big'), Buffer.alloc(16 << 20, 'kiln layer '));
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const pool = createGzipPool({ threads: 2 });
    try {
      const pooled = await writeLayer(changeSetFromTree(root), root, { store, sourceDateEpoch: 0, pool });
      const allocated = alloc.mock.calls.reduce((sum, [size]) => sum + size, 0);
      alloc.mockRestore();
      const inline = await writeLayer(changeSetFromTree(root), root, {
        store,
        sourceDateEpoch: 0,
        threads: 1,
      });
      expect(pooled.digest).toBe(inline.digest);
      // The blocks compressing before the first member is back get a block-sized buffer; the rest, one
      // near the member's size.
      expect(allocated).toBeLessThan(6 << 20);
    } finally {
      alloc.mockRestore();
      await pool.close();
    }
  });

  it('gives the same member whatever the size hint, too small or too large', async () => {
    const pool = createGzipPool({ threads: 2 });
    try {
      const data = Buffer.concat([
        Buffer.alloc(1 << 19, 'abc'),
        Buffer.from(Array.from({ length: 1 << 19 }, (_, i) => (i * 7919) % 251)),
      ]);
      const plain = await pool.compress(data, 6);
      for (const hint of [0, 100, 70_000, 1 << 22]) {
        expect(Buffer.from(await pool.compress(data, 6, hint)).equals(Buffer.from(plain))).toBe(true);
      }
    } finally {
      await pool.close();
    }
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
