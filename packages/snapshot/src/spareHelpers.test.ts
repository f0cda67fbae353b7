import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { diffSnapshots } from './diffSnapshots.ts';
import { discardSpareHelpers, spareHelperCount } from './spareHelpers.ts';
import { prestartSnapshotHelper, takeSnapshot } from './takeSnapshot.ts';
import { compileXattrHelper, gcc, makeTempDir, writeTree } from './testTree.ts';
import type { SnapshotEvent, SnapshotOptions } from './types.ts';

const cleanup: Array<() => void> = [];
let helper: { binary: string; remove: () => void } | undefined;
beforeAll(() => {
  if (gcc !== undefined) helper = compileXattrHelper();
});
afterAll(() => helper?.remove());
afterEach(() => {
  discardSpareHelpers();
  for (const remove of cleanup.splice(0)) remove();
  delete process.env.KILN_XATTR_HELPER;
});

function tempRoot(): string {
  const temp = makeTempDir();
  cleanup.push(temp.remove);
  process.env.KILN_XATTR_HELPER = helper!.binary;
  return temp.dir;
}

async function snapshot(root: string, options: SnapshotOptions = {}) {
  const events: SnapshotEvent[] = [];
  const taken = await takeSnapshot(root, { threads: 2, ...options, onEvent: (event) => events.push(event) });
  const walked = events.find((event) => event.type === 'snapshot-walked');
  return { taken, walker: walked?.type === 'snapshot-walked' ? walked.walker : undefined };
}

const skipReason = gcc === undefined ? ' (skipped: no gcc to compile images/executor/xattr-helper.c)' : '';

describe.skipIf(gcc === undefined)(`helpers started ahead of their snapshot${skipReason}`, () => {
  it('a walk started before the tree was written sees the tree as it is when the snapshot is taken', async () => {
    const root = tempRoot();
    prestartSnapshotHelper(root, { threads: 2 });
    expect(spareHelperCount()).toBe(1);
    writeTree(root, { 'a.txt': 'a', 'dir/b.txt': 'b' });
    const { taken, walker } = await snapshot(root);
    expect(spareHelperCount()).toBe(0);
    expect(walker).toBe('kiln-xattr');
    expect([...taken].map((entry) => entry.path)).toEqual(['a.txt', 'dir', 'dir/b.txt']);
    // The same as a walk started then.
    const fresh = await snapshot(root);
    expect(diffSnapshots(fresh.taken, taken).changes).toEqual([]);
  });

  it('a rescan started before a file is rewritten (same size, same mtime) still finds it changed', async () => {
    const root = tempRoot();
    writeTree(root, { 'app/config': 'one', 'app/other': 'x' });
    const file = path.join(root, 'app/config');
    const before = statSync(file);
    const { taken: baseline } = await snapshot(root);
    prestartSnapshotHelper(root, { threads: 2, previous: baseline });
    expect(spareHelperCount()).toBe(1);
    // What a RUN might do: new bytes of the same length, the old mtime put back (only ctime moves).
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(file, 'two');
    utimesSync(file, before.atime, before.mtime);
    const { taken: after, walker } = await snapshot(root, { previous: baseline });
    expect(spareHelperCount()).toBe(0);
    expect(walker).toBe('kiln-xattr');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(diffSnapshots(baseline, after).changes.map((change) => [change.path, change.kind])).toEqual([
      ['app/config', 'modified'],
    ]);
  });

  it('a spare whose directory was removed and made again at the same path is not used', async () => {
    const root = tempRoot();
    const stage = path.join(root, 'stage');
    mkdirSync(stage);
    prestartSnapshotHelper(stage, { threads: 2 });
    rmSync(stage, { recursive: true });
    mkdirSync(stage);
    writeTree(stage, { 'new.txt': 'n' });
    const { taken } = await snapshot(stage);
    expect(spareHelperCount()).toBe(0);
    // The spare would have walked the removed directory: an empty tree.
    expect([...taken].map((entry) => entry.path)).toEqual(['new.txt']);
  });

  it('discarding ends the spares; a snapshot after that starts its own helper', async () => {
    const root = tempRoot();
    writeTree(root, { 'a.txt': 'a' });
    prestartSnapshotHelper(root, { threads: 2 });
    discardSpareHelpers();
    expect(spareHelperCount()).toBe(0);
    const { taken, walker } = await snapshot(root);
    expect(walker).toBe('kiln-xattr');
    expect([...taken].map((entry) => entry.path)).toEqual(['a.txt']);
  });

  it('nothing is started for a snapshot that would use no helper', () => {
    const root = tempRoot();
    prestartSnapshotHelper(root, { threads: 1 });
    prestartSnapshotHelper(root, { threads: 2, strategy: 'metadata' });
    prestartSnapshotHelper(root, { threads: 2, ignore: ['*.log'] });
    expect(spareHelperCount()).toBe(0);
  });
});
