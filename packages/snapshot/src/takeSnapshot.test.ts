import { chmodSync, chownSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashFiles } from './hashQueue.ts';
import { snapshotPaths, takeSnapshot } from './takeSnapshot.ts';
import { makeTempDir, run, setXattr, writeTree } from './testTree.ts';
import type { SnapshotEvent } from './types.ts';

let cleanup: Array<() => void> = [];
function tempRoot(): string {
  const temp = makeTempDir();
  cleanup.push(temp.remove);
  return temp.dir;
}
afterEach(() => {
  for (const remove of cleanup) remove();
  cleanup = [];
});

describe('takeSnapshot', () => {
  it('records every file type, ownership, special mode bits and nanosecond mtimes', async () => {
    const root = tempRoot();
    writeTree(root, { 'bin/tool': 'x', 'tmp/': null, 'etc/passwd': 'root:x:0:0::/root:/bin/sh\n' });
    mkdirSync(path.join(root, 'var'));
    chmodSync(path.join(root, 'bin/tool'), 0o4755);
    chmodSync(path.join(root, 'var'), 0o2775);
    chmodSync(path.join(root, 'tmp'), 0o1777);
    chownSync(path.join(root, 'etc/passwd'), 1234, 5678);
    symlinkSync('../etc/passwd', path.join(root, 'bin/link'));
    linkSync(path.join(root, 'bin/tool'), path.join(root, 'bin/tool2'));
    run('mknod', [path.join(root, 'null'), 'c', '1', '3']);
    run('mknod', [path.join(root, 'loop9'), 'b', '7', '9']);
    run('mkfifo', [path.join(root, 'pipe')]);
    run('touch', ['-h', '-d', '@1612325106.123456789', path.join(root, 'etc/passwd')]);
    const server = net.createServer().listen(path.join(root, 'sock'));
    await new Promise((resolve) => server.once('listening', resolve));
    const events: SnapshotEvent[] = [];
    const snapshot = await takeSnapshot(root, { strategy: 'full', onEvent: (event) => events.push(event) });
    server.close();

    expect([...snapshot].map((e) => `${e.path}:${e.type}`)).toEqual([
      'bin:dir',
      'bin/link:symlink',
      'bin/tool:file',
      'bin/tool2:file',
      'etc:dir',
      'etc/passwd:file',
      'loop9:block',
      'null:char',
      'pipe:fifo',
      'tmp:dir',
      'var:dir',
    ]);
    expect(events).toContainEqual({ type: 'snapshot-skipped', path: 'sock', reason: 'socket' });
    expect(snapshot.get('bin/tool')!.mode).toBe(0o4755);
    expect(snapshot.get('var')!.mode).toBe(0o2775);
    expect(snapshot.get('tmp')!.mode).toBe(0o1777);
    const passwd = snapshot.get('etc/passwd')!;
    expect([passwd.uid, passwd.gid, passwd.size]).toEqual([1234, 5678, 26]);
    expect(passwd.mtimeNs).toBe(1612325106123456789n);
    expect(passwd.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(snapshot.get('bin/link')!.linkTarget).toBe('../etc/passwd');
    const [tool, tool2] = [snapshot.get('bin/tool')!, snapshot.get('bin/tool2')!];
    expect(tool.ino).toBe(tool2.ino);
    expect(tool.nlink).toBe(2);
    expect(snapshot.get('null')!.rdev).toBe(259); // makedev(1, 3)
    expect(snapshot.get('loop9')!.rdev).toBe((7 << 8) | 9);
    expect(snapshot.get('pipe')!.hash).toBeUndefined();
    expect(snapshot.stats).toMatchObject({ entries: 11, filesHashed: 3 });
  });

  it('reads security.capability and other xattrs', async () => {
    const root = tempRoot();
    writeTree(root, { ping: 'elf', notes: 'n' });
    run('setcap', ['cap_net_raw+ep', path.join(root, 'ping')]);
    setXattr(path.join(root, 'notes'), 'user.origin', 'kiln');
    const snapshot = await takeSnapshot(root);
    expect(snapshot.get('ping')!.xattrs?.['security.capability']?.length).toBeGreaterThanOrEqual(20);
    expect(Buffer.from(snapshot.get('notes')!.xattrs!['user.origin']!).toString()).toBe('kiln');
    // Carried over from `previous` when the inode's ctime did not move.
    const again = await takeSnapshot(root, { previous: snapshot });
    expect(again.get('ping')!.xattrs?.['security.capability']).toEqual(
      snapshot.get('ping')!.xattrs?.['security.capability'],
    );
  });

  it('sorts paths by UTF-8 bytes, across directory boundaries', async () => {
    const root = tempRoot();
    writeTree(root, { 'a/x': '1', 'a-b': '2', a0: '3', 'é/f': '4', 'z\u{1F600}': '5', 'z\uFF5E': '6' });
    const snapshot = await takeSnapshot(root);
    expect([...snapshot].map((e) => e.path)).toEqual([
      'a',
      'a-b',
      'a/x',
      'a0',
      'z\uFF5E',
      'z\u{1F600}',
      'é',
      'é/f',
    ]);
    expect(snapshot.indexOf('a/x')).toBe(2);
    expect(snapshot.indexOf('nope')).toBe(-1);
  });

  it('leaves out built-in and user ignore paths, by prefix and by glob', async () => {
    const root = tempRoot();
    writeTree(root, {
      'proc/1/status': 's',
      'etc/hosts': 'h',
      'etc/os-release': 'o',
      'var/cache/apt/x': 'c',
      'var/log/a.log': 'l',
      'var/log/keep.txt': 'k',
      'srv/deep/b.log': 'l',
    });
    const snapshot = await takeSnapshot(root, { ignore: ['/var/cache', '**/*.log'] });
    expect([...snapshot].map((e) => e.path)).toEqual([
      'etc',
      'etc/os-release',
      'srv',
      'srv/deep',
      'var',
      'var/log',
      'var/log/keep.txt',
    ]);
    const everything = await takeSnapshot(root, { builtinIgnore: false });
    expect(everything.get('proc/1/status')).toBeDefined();
  });

  it('hashes nothing under metadata, and only changed files under incremental', async () => {
    const root = tempRoot();
    writeTree(root, { a: 'one', b: 'two', 'd/c': 'three' });
    expect((await takeSnapshot(root, { strategy: 'metadata' })).stats.filesHashed).toBe(0);
    const first = await takeSnapshot(root);
    expect(first.stats.filesHashed).toBe(3);
    writeFileSync(path.join(root, 'b'), 'TWO');
    const second = await takeSnapshot(root, { previous: first });
    expect(second.stats).toMatchObject({ filesHashed: 1, bytesHashed: 3 });
    expect(second.get('a')!.hash).toBe(first.get('a')!.hash);
    expect(second.get('b')!.hash).not.toBe(first.get('b')!.hash);
  });

  it('hashes in the worker pool when the tree is not small, with the same results', async () => {
    const root = tempRoot();
    const tree: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) tree[`d${i % 7}/f${i}`] = `content ${i}`;
    writeTree(root, tree);
    const pooled = await takeSnapshot(root, { strategy: 'full', threads: 2 });
    const [expected] = await hashFiles([path.join(root, 'd3/f3')], { threads: 0 });
    expect(pooled.get('d3/f3')!.hash).toBe(expected);
    expect(pooled.stats.filesHashed).toBe(1500);
    const single = await takeSnapshot(root, { strategy: 'full', threads: 1 });
    expect([...single].map((e) => e.hash)).toEqual([...pooled].map((e) => e.hash));
    // A first hashing snapshot stats files where it hashes them (fstat); metadata lstats every entry.
    const metadata = await takeSnapshot(root, { strategy: 'metadata', threads: 2 });
    const withoutHash = (snapshot: typeof pooled) => [...snapshot].map(({ hash: _, ...entry }) => entry);
    expect(withoutHash(pooled)).toEqual(withoutHash(metadata));
  });

  it('lists directories in workers ahead of a rescan, with the same entries as one thread', async () => {
    const root = tempRoot();
    const tree: Record<string, string> = {
      'proc/1/status': 's',
      'var/cache/x': 'c',
      'a-b/c': '1',
      'é/ü/f': 'u',
    };
    for (let i = 0; i < 300; i++) tree[`d${i % 11}/s${i % 5}/deep/f${i}`] = `content ${i}`;
    writeTree(root, tree);
    symlinkSync('../d1', path.join(root, 'd0/link'));
    const options = { ignore: ['/var/cache'], xattrs: false };
    const first = await takeSnapshot(root, { ...options, threads: 1 });
    writeFileSync(path.join(root, 'd3/s3/deep/new'), 'new');
    const entries = (snapshot: typeof first) =>
      [...snapshot].map((e) => ({ ...e, mtimeNs: String(e.mtimeNs), ctimeNs: String(e.ctimeNs) }));
    const single = await takeSnapshot(root, { ...options, threads: 1, previous: first });
    for (const strategy of ['incremental', 'metadata'] as const) {
      const prefetched = await takeSnapshot(root, {
        ...options,
        strategy,
        threads: 2,
        previous: first,
      });
      const inline =
        strategy === 'incremental' ? single : await takeSnapshot(root, { ...options, strategy, threads: 1 });
      expect(entries(prefetched)).toEqual(entries(inline));
    }
    expect(single.get('proc')).toBeUndefined();
    expect(single.get('var/cache/x')).toBeUndefined();
    expect(single.get('d0/link')!.linkTarget).toBe('../d1');
  });

  it('snapshots given subtrees with their ancestors', async () => {
    const root = tempRoot();
    writeTree(root, { 'app/src/a.js': 'a', 'app/src/b.js': 'b', 'app/README': 'r', 'etc/x': 'x' });
    const snapshot = await snapshotPaths(root, ['app/src', '/app/src/a.js', 'etc/x', 'missing']);
    expect([...snapshot].map((e) => e.path)).toEqual([
      'app',
      'app/src',
      'app/src/a.js',
      'app/src/b.js',
      'etc',
      'etc/x',
    ]);
    expect(snapshot.get('etc/x')!.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('fails with a code for a missing root and an unknown or unavailable strategy', async () => {
    const root = tempRoot();
    await expect(takeSnapshot(path.join(root, 'nope'))).rejects.toMatchObject({
      code: 'SNAPSHOT_ROOT_NOT_FOUND',
    });
    writeFileSync(path.join(root, 'f'), '');
    await expect(takeSnapshot(path.join(root, 'f'))).rejects.toMatchObject({ code: 'SNAPSHOT_ROOT_NOT_DIR' });
    await expect(takeSnapshot(root, { strategy: 'overlay' })).rejects.toMatchObject({
      code: 'SNAPSHOT_STRATEGY_UNAVAILABLE',
    });
    // biome-ignore lint/suspicious/noExplicitAny: a caller outside TypeScript
    await expect(takeSnapshot(root, { strategy: 'fast' as any })).rejects.toMatchObject({
      code: 'SNAPSHOT_UNKNOWN_STRATEGY',
    });
  });

  it('hashFiles gives xxh64 hex and a coded error for a missing file', async () => {
    const root = tempRoot();
    writeTree(root, { empty: '', abc: 'abc' });
    // Reference values of XXH64 with seed 0.
    expect(await hashFiles([path.join(root, 'empty'), path.join(root, 'abc')])).toEqual([
      'ef46db3751d8e999',
      '44bc2cf5ad770999',
    ]);
    await expect(hashFiles([path.join(root, 'missing')])).rejects.toMatchObject({
      code: 'SNAPSHOT_READ_FAILED',
    });
  });
});
