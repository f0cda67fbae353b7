import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diffSnapshots } from './diffSnapshots.ts';
import { takeSnapshot } from './takeSnapshot.ts';
import { makeTempDir, run, setXattr, writeTree } from './testTree.ts';
import type { ChangeSet, SnapshotStrategyName } from './types.ts';

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const remove of cleanup) remove();
  cleanup = [];
});

/** Snapshots a tree, applies `change` to it, snapshots again and diffs. */
async function diffAfter(
  tree: Record<string, string | null>,
  change: (root: string) => void,
  strategy: SnapshotStrategyName = 'incremental',
): Promise<ChangeSet> {
  const temp = makeTempDir();
  cleanup.push(temp.remove);
  writeTree(temp.dir, tree);
  const before = await takeSnapshot(temp.dir, { strategy });
  change(temp.dir);
  const after = await takeSnapshot(temp.dir, { strategy, previous: before });
  return diffSnapshots(before, after);
}

function summary(set: ChangeSet): string[] {
  return set.changes.map((c) => `${c.kind} ${c.path}${c.reasons ? ` ${c.reasons.join(',')}` : ''}`);
}

describe('diffSnapshots', () => {
  it('reports nothing for an untouched tree', async () => {
    expect(summary(await diffAfter({ 'a/b': '1', c: '2' }, () => {}))).toEqual([]);
  });

  it('reports added files and dirs, each added entry carrying its metadata', async () => {
    const set = await diffAfter({ a: '1' }, (root) => writeTree(root, { 'new/x': 'xx' }));
    expect(summary(set)).toEqual(['added new', 'added new/x']);
    expect(set.changes[1]!.entry).toMatchObject({ type: 'file', size: 2 });
  });

  it('reports content changes with the same size', async () => {
    const set = await diffAfter({ a: 'one' }, (root) => writeFileSync(path.join(root, 'a'), 'two'));
    expect(summary(set)).toEqual(['modified a content']);
  });

  it('reports a deleted directory as one deletion', async () => {
    const set = await diffAfter({ 'd/x/y': '1', 'd/z': '2', keep: '3' }, (root) =>
      rmSync(path.join(root, 'd'), { recursive: true }),
    );
    expect(summary(set)).toEqual(['deleted d']);
  });

  it('reports a directory replaced by a file, and a file replaced by a directory', async () => {
    const set = await diffAfter({ 'd/x': '1', f: '2' }, (root) => {
      rmSync(path.join(root, 'd'), { recursive: true });
      writeFileSync(path.join(root, 'd'), 'now a file');
      unlinkSync(path.join(root, 'f'));
      writeTree(root, { 'f/inner': 'i' });
    });
    expect(summary(set)).toEqual(['modified d type', 'modified f type', 'added f/inner']);
  });

  it('uses an opaque marker for a directory whose contents were all replaced', async () => {
    const set = await diffAfter({ 'app/a': '1', 'app/b': '2', 'app/sub/c': '3', other: 'o' }, (root) => {
      for (const name of ['a', 'b', 'sub']) rmSync(path.join(root, 'app', name), { recursive: true });
      writeTree(root, { 'app/new': 'n' });
    });
    expect(set.opaqueDirs).toEqual(['app']);
    expect(summary(set)).toEqual(['modified app content', 'added app/new']);
  });

  it('detects symlink retargets and type changes between symlink and file', async () => {
    const set = await diffAfter({ t1: '', t2: '' }, () => {}, 'full');
    expect(set.changes).toEqual([]);
    const retarget = await diffAfter({ t: '' }, (root) => {
      symlinkSync('t', path.join(root, 'l'));
    });
    expect(summary(retarget)).toEqual(['added l']);
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    symlinkSync('one', path.join(temp.dir, 'l'));
    symlinkSync('x', path.join(temp.dir, 'm'));
    const before = await takeSnapshot(temp.dir);
    unlinkSync(path.join(temp.dir, 'l'));
    symlinkSync('two', path.join(temp.dir, 'l'));
    unlinkSync(path.join(temp.dir, 'm'));
    writeFileSync(path.join(temp.dir, 'm'), 'x');
    expect(summary(diffSnapshots(before, await takeSnapshot(temp.dir, { previous: before })))).toEqual([
      'modified l linkTarget',
      'modified m type',
    ]);
  });

  it('detects hardlink groups forming and breaking', async () => {
    const formed = await diffAfter({ a: 'same' }, (root) =>
      linkSync(path.join(root, 'a'), path.join(root, 'b')),
    );
    expect(summary(formed)).toEqual(['modified a hardlink', 'added b']);
    expect(formed.changes[1]!.entry!.ino).toBe(formed.changes[0]!.entry!.ino);
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    writeTree(temp.dir, { a: 'same' });
    linkSync(path.join(temp.dir, 'a'), path.join(temp.dir, 'b'));
    const before = await takeSnapshot(temp.dir);
    unlinkSync(path.join(temp.dir, 'b'));
    writeFileSync(path.join(temp.dir, 'b'), 'same');
    expect(summary(diffSnapshots(before, await takeSnapshot(temp.dir, { previous: before })))).toEqual([
      'modified a hardlink',
      'modified b hardlink',
    ]);
  });

  it('treats touch as a change under metadata only; chmod and chown under every strategy', async () => {
    const touch = (root: string) => run('touch', ['-d', '@1700000000', path.join(root, 'a')]);
    expect(summary(await diffAfter({ a: '1' }, touch, 'metadata'))).toEqual(['modified a mtime,ctime']);
    expect(summary(await diffAfter({ a: '1' }, touch, 'incremental'))).toEqual([]);
    expect(summary(await diffAfter({ a: '1' }, touch, 'full'))).toEqual([]);
    const chmod = (root: string) => chmodSync(path.join(root, 'a'), 0o4700);
    expect(summary(await diffAfter({ a: '1' }, chmod, 'incremental'))).toEqual(['modified a mode']);
    const chown = (root: string) => chownSync(path.join(root, 'a'), 42, 42);
    expect(summary(await diffAfter({ a: '1' }, chown, 'full'))).toEqual(['modified a owner']);
  });

  it('reports a rewrite with identical content only under metadata', async () => {
    const rewrite = (root: string) => {
      unlinkSync(path.join(root, 'a'));
      writeFileSync(path.join(root, 'a'), 'same');
    };
    expect(summary(await diffAfter({ a: 'same' }, rewrite, 'incremental'))).toEqual([]);
    expect(summary(await diffAfter({ a: 'same' }, rewrite, 'metadata'))[0]).toMatch(/^modified a .*mtime/);
  });

  it('detects xattr changes such as setcap', async () => {
    const set = await diffAfter({ ping: 'elf', notes: 'n' }, (root) => {
      run('setcap', ['cap_net_raw+ep', path.join(root, 'ping')]);
      setXattr(path.join(root, 'notes'), 'user.k', 'v');
    });
    expect(summary(set)).toEqual(['modified notes xattrs', 'modified ping xattrs']);
  });

  it('detects device number changes', async () => {
    const set = await diffAfter({ 'd/': null }, (root) => {
      run('mknod', [path.join(root, 'd/n'), 'c', '1', '3']);
    });
    expect(summary(set)).toEqual(['added d/n']);
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    mkdirSync(path.join(temp.dir, 'd'));
    run('mknod', [path.join(temp.dir, 'd/n'), 'c', '1', '3']);
    const before = await takeSnapshot(temp.dir);
    unlinkSync(path.join(temp.dir, 'd/n'));
    run('mknod', [path.join(temp.dir, 'd/n'), 'c', '1', '5']);
    expect(summary(diffSnapshots(before, await takeSnapshot(temp.dir, { previous: before })))).toEqual([
      'modified d/n content',
    ]);
  });
});
