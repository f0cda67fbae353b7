import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { diffSnapshots } from './diffSnapshots.ts';
import { deserializeSnapshot, serializeSnapshot } from './serializeSnapshot.ts';
import { takeSnapshot } from './takeSnapshot.ts';
import { makeTempDir, run, setXattr, writeTree } from './testTree.ts';

it('round-trips every field of every entry', async () => {
  const temp = makeTempDir();
  try {
    writeTree(temp.dir, { 'a/b': 'b', 'é x': 'utf8 name', [`${'n'.repeat(255)}`]: 'long' });
    symlinkSync('a/b', path.join(temp.dir, 'link'));
    run('mknod', [path.join(temp.dir, 'dev0'), 'b', '8', '1']);
    setXattr(path.join(temp.dir, 'a/b'), 'user.x', 'y');
    const snapshot = await takeSnapshot(temp.dir, { strategy: 'full' });
    const loaded = deserializeSnapshot(serializeSnapshot(snapshot));
    expect([...loaded]).toEqual([...snapshot]);
    expect(loaded).toMatchObject({
      root: snapshot.root,
      strategy: 'full',
      hashed: true,
      stats: snapshot.stats,
    });
    expect(diffSnapshots(loaded, snapshot)).toEqual({ changes: [], opaqueDirs: [] });
  } finally {
    temp.remove();
  }
});

it('rejects a file that is not a snapshot, or a truncated one', async () => {
  expect(() => deserializeSnapshot(Buffer.from('hello world, not a snapshot'))).toThrow(
    expect.objectContaining({ code: 'SNAPSHOT_BAD_FILE' }),
  );
  const temp = makeTempDir();
  try {
    writeTree(temp.dir, { a: '1' });
    const bytes = serializeSnapshot(await takeSnapshot(temp.dir));
    expect(() => deserializeSnapshot(bytes.subarray(0, bytes.length - 5))).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_BAD_FILE' }),
    );
  } finally {
    temp.remove();
  }
});
