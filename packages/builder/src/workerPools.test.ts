import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '@kiln/image';
import { changeSetFromTree, writeLayer } from '@kiln/layer';
import { takeSnapshot } from '@kiln/snapshot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type WorkerPools, withWorkerPools } from './workerPools.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-pools-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A tree big enough that a snapshot hashes, and a layer compresses, in the workers. */
function busyTree(): string {
  const root = join(dir, 'root');
  for (let d = 0; d < 4; d++) mkdirSync(join(root, `d${d}`), { recursive: true });
  for (let i = 0; i < 1200; i++) writeFileSync(join(root, `d${i % 4}/f${i}`), `content ${i}`);
  writeFileSync(join(root, 'big'), Buffer.alloc(3 << 20, 'k'));
  return root;
}

async function useBoth(pools: WorkerPools, root: string): Promise<void> {
  const snapshot = await takeSnapshot(root, { strategy: 'full', pool: pools.hash, threads: 2 });
  expect(snapshot.stats.filesHashed).toBe(1201);
  const store = new BlobStore(join(dir, 'store'));
  await writeLayer(changeSetFromTree(root), root, { store, pool: pools.gzip, threads: 2 });
}

async function expectClosed(pools: WorkerPools, root: string): Promise<void> {
  expect(pools.hash.closed).toBe(true);
  expect(pools.gzip.closed).toBe(true);
  await expect(takeSnapshot(root, { strategy: 'full', pool: pools.hash, threads: 2 })).rejects.toMatchObject({
    code: 'SNAPSHOT_POOL_CLOSED',
  });
  await expect(pools.gzip.compress(new Uint8Array(8), 1)).rejects.toMatchObject({
    code: 'LAYER_POOL_CLOSED',
  });
}

describe('withWorkerPools', () => {
  it('closes the pools when the work is done', async () => {
    const root = busyTree();
    let seen: WorkerPools | undefined;
    const result = await withWorkerPools(async (pools) => {
      seen = pools;
      await useBoth(pools, root);
      return 'built';
    });
    expect(result).toBe('built');
    await expectClosed(seen!, root);
  });

  it('closes the pools when the work fails, and the failure is what the caller sees', async () => {
    const root = busyTree();
    let seen: WorkerPools | undefined;
    const failure = new Error('RUN exited 1');
    await expect(
      withWorkerPools(async (pools) => {
        seen = pools;
        await useBoth(pools, root);
        throw failure;
      }),
    ).rejects.toBe(failure);
    await expectClosed(seen!, root);
  });
});
