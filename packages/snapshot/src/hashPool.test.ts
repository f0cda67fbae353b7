import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHashPool } from './hashPool.ts';
import { hashFiles } from './hashQueue.ts';
import { takeSnapshot } from './takeSnapshot.ts';
import { makeTempDir, writeTree } from './testTree.ts';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

/** Enough files that a snapshot with two threads hashes in batches as it walks, through the pool. */
function pooledTree(): string {
  const temp = makeTempDir();
  cleanup.push(temp.remove);
  const tree: Record<string, string> = {};
  for (let i = 0; i < 1200; i++) tree[`d${i % 5}/f${i}`] = `content ${i}`;
  writeTree(temp.dir, tree);
  return temp.dir;
}

describe('createHashPool', () => {
  it('serves several snapshots and stays open until its owner closes it', async () => {
    const root = pooledTree();
    const pool = createHashPool({ threads: 2 });
    try {
      const first = await takeSnapshot(root, { strategy: 'full', pool });
      const second = await takeSnapshot(root, { strategy: 'full', pool });
      expect(first.stats.filesHashed).toBe(1200);
      expect([...second].map((e) => e.hash)).toEqual([...first].map((e) => e.hash));
      expect(pool.closed).toBe(false);
      const [hash] = await hashFiles([path.join(root, 'd0/f0')], { pool });
      expect(hash).toBe(first.get('d0/f0')!.hash);
    } finally {
      await pool.close();
    }
    expect(pool.closed).toBe(true);
  });

  it('can be closed twice, used or not', async () => {
    const unused = createHashPool();
    await unused.close();
    await unused.close();
    const used = createHashPool({ threads: 2 });
    await takeSnapshot(pooledTree(), { strategy: 'full', pool: used });
    await Promise.all([used.close(), used.close()]);
    await used.close();
    expect(used.closed).toBe(true);
  });

  it('refuses work after close with a coded error, and a snapshot says so', async () => {
    const root = pooledTree();
    const pool = createHashPool({ threads: 2 });
    await takeSnapshot(root, { strategy: 'full', pool });
    await pool.close();
    await expect(pool.hash({ paths: path.join(root, 'd0/f0'), stat: false })).rejects.toMatchObject({
      code: 'SNAPSHOT_POOL_CLOSED',
    });
    await expect(takeSnapshot(root, { strategy: 'full', pool })).rejects.toMatchObject({
      code: 'SNAPSHOT_POOL_CLOSED',
    });
  });
});
