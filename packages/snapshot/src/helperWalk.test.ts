import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { walkHelper } from './helperWalk.ts';
import { takeSnapshot } from './takeSnapshot.ts';
import { compileXattrHelper, gcc, makeTempDir, run, setXattr, writeTree } from './testTree.ts';
import type { Snapshot, SnapshotEvent, SnapshotOptions } from './types.ts';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const remove of cleanup.splice(0)) remove();
  delete process.env.KILN_XATTR_HELPER;
});

/** Every field of every entry, comparable with toEqual (BigInts and byte arrays as strings). */
function entries(snapshot: Snapshot) {
  return [...snapshot].map((entry) => ({
    ...entry,
    mtimeNs: String(entry.mtimeNs),
    ctimeNs: String(entry.ctimeNs),
    xattrs: Object.fromEntries(
      Object.entries(entry.xattrs ?? {}).map(([name, value]) => [name, Buffer.from(value).toString('hex')]),
    ),
  }));
}

async function snapshotWith(root: string, options: SnapshotOptions) {
  const events: SnapshotEvent[] = [];
  const snapshot = await takeSnapshot(root, { ...options, onEvent: (event) => events.push(event) });
  const walked = events.find((event) => event.type === 'snapshot-walked');
  const skipped = events.filter((event) => event.type === 'snapshot-skipped');
  return { snapshot, walker: walked?.type === 'snapshot-walked' ? walked.walker : undefined, skipped };
}

const skipReason = gcc === undefined ? ' (skipped: no gcc to compile images/executor/xattr-helper.c)' : '';

describe.skipIf(gcc === undefined)(`kiln-xattr walk${skipReason}`, () => {
  it('lists the same tree as the walk in this process: every type, name, stat field and xattr', async () => {
    const helper = compileXattrHelper();
    cleanup.push(helper.remove);
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    const root = temp.dir;
    const at = (rel: string) => path.join(root, rel);
    const long = `deep/${'d'.repeat(255)}/${'n'.repeat(255)}`;
    writeTree(root, {
      'a-b': 'sorts between a and a/',
      'a/x': 'x',
      'a/é ü/file with spaces': 'utf-8',
      'a/z/y/x/w/v': 'deep',
      [long]: '255-byte names',
      'etc/resolv.conf': 'ignored by default',
      'proc/1/status': 'ignored by default',
      'var/cache/apt/pkg': 'ignored by the caller',
      'var/lib/keep': 'kept',
      empty: null,
      tool: 'elf',
      setuid: 's',
    });
    for (let i = 0; i < 40; i++) writeFileSync(at(`empty-${i % 3}-${i}`), `file ${i}`);
    chmodSync(at('setuid'), 0o4755);
    chmodSync(at('empty'), 0o1777);
    chownSync(at('a/x'), 1234, 5678);
    linkSync(at('tool'), at('a/tool-link'));
    symlinkSync('../tool', at('a/link'));
    symlinkSync('x'.repeat(1000), at('dangling'));
    run('mkfifo', [at('fifo')]);
    run('mknod', [at('null'), 'c', '1', '3']);
    run('setcap', ['cap_net_raw+ep', at('tool')]);
    setXattr(at('a'), 'user.dir', 'on a directory');
    setXattr(at('a/é ü/file with spaces'), 'user.\u00e9', 'v'.repeat(3000));
    // Bytes that are not UTF-8: reported as undecodable by both walks, and not entered.
    execFileSync('python3', [
      '-c',
      'import os,sys; os.makedirs(sys.argv[1].encode() + b"/bad-\\xff/sub")',
      root,
    ]);
    const server = net.createServer().listen(at('socket'));
    await new Promise((resolve) => server.once('listening', resolve));
    cleanup.push(() => server.close());

    process.env.KILN_XATTR_HELPER = helper.binary;
    expect(walkHelper()).toEqual({ command: helper.binary, args: ['walk'] });
    const options: SnapshotOptions = { strategy: 'full', threads: 2, ignore: ['/var/cache'] };
    const viaHelper = await snapshotWith(root, options);
    const inProcess = await snapshotWith(root, { ...options, threads: 1 });
    expect(viaHelper.walker).toBe('kiln-xattr');
    expect(inProcess.walker).toBe('node');
    expect(entries(viaHelper.snapshot)).toEqual(entries(inProcess.snapshot));
    expect(viaHelper.skipped).toEqual(expect.arrayContaining(inProcess.skipped));
    expect(viaHelper.skipped).toHaveLength(inProcess.skipped.length);

    const got = viaHelper.snapshot;
    const paths = [...got].map((entry) => entry.path);
    expect(paths.indexOf('a')).toBeLessThan(paths.indexOf('a-b'));
    expect(paths.indexOf('a-b')).toBeLessThan(paths.indexOf('a/x'));
    expect(paths).not.toContain('proc');
    expect(paths).not.toContain('etc/resolv.conf');
    expect(paths).not.toContain('var/cache');
    expect(paths).toContain('var/lib/keep');
    expect(paths).toContain(long);
    expect(got.get('a/link')).toMatchObject({ type: 'symlink', linkTarget: '../tool' });
    expect(got.get('dangling')!.linkTarget).toHaveLength(1000);
    expect(got.get('null')).toMatchObject({ type: 'char', rdev: expect.any(Number) });
    expect(got.get('fifo')!.type).toBe('fifo');
    expect(got.get('a/x')).toMatchObject({ uid: 1234, gid: 5678 });
    expect(got.get('setuid')!.mode).toBe(0o4755);
    expect(got.get('empty')).toMatchObject({ type: 'dir', mode: 0o1777 });
    expect(got.get('a/tool-link')!.ino).toBe(got.get('tool')!.ino);
    expect(Object.keys(got.get('tool')!.xattrs!)).toEqual(['security.capability']);
    expect(Object.keys(got.get('a')!.xattrs!)).toEqual(['user.dir']);
    expect(got.get('a/é ü/file with spaces')!.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(got.get('socket')).toBeUndefined();
    expect(
      viaHelper.skipped.map((event) => event.type === 'snapshot-skipped' && event.reason).sort(),
    ).toEqual(['socket', 'undecodable-name']);

    // A rescan of the helper's snapshot carries everything over: its stats match what lstat says.
    const rescan = await takeSnapshot(root, { threads: 2, previous: got, ignore: ['/var/cache'] });
    expect(rescan.stats.filesHashed).toBe(0);
  });

  it('is used only with worker threads, xattrs and prefix rules; python3 has no walk', async () => {
    const helper = compileXattrHelper();
    cleanup.push(helper.remove);
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    writeTree(temp.dir, { 'a/b': 'b', 'c.log': 'log' });
    process.env.KILN_XATTR_HELPER = helper.binary;
    const walker = async (options: SnapshotOptions) => (await snapshotWith(temp.dir, options)).walker;
    expect(await walker({ threads: 2 })).toBe('kiln-xattr');
    expect(await walker({ threads: 2, ignore: ['*.log'] })).toBe('node');
    expect(await walker({ threads: 2, xattrs: false })).toBe('node');
    expect(await walker({ threads: 2, strategy: 'metadata' })).toBe('node');
    const globbed = await snapshotWith(temp.dir, { threads: 2, ignore: ['*.log'] });
    expect(globbed.snapshot.get('c.log')).toBeUndefined();
    expect(walkHelper({ PATH: '' })).toBeUndefined();
  });

  it('walks in process when the helper cannot be started, and reports the xattrs it could not read', async () => {
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    writeTree(temp.dir, { 'a/b': 'b', 'c.txt': 'c' });
    process.env.KILN_XATTR_HELPER = path.join(temp.dir, 'no-such-helper');
    const events: SnapshotEvent[] = [];
    const snapshot = await takeSnapshot(temp.dir, { threads: 2, onEvent: (event) => events.push(event) });
    expect(snapshot.get('a/b')!.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(events.find((event) => event.type === 'snapshot-walked')).toMatchObject({ walker: 'node' });
    expect(events.filter((event) => event.type === 'xattrs-unavailable')).toHaveLength(1);
  });

  it('walks in process when kiln-xattr predates `walk`, reading xattrs by directory with it', async () => {
    // Built with the mode under another name: `walk` gets the usage answer, as from a build before it.
    const dispatch = 'strcmp(argv[1], "walk")';
    const older = compileXattrHelper((source) => {
      expect(source).toContain(dispatch);
      return source.replace(dispatch, 'strcmp(argv[1], "walk-not-yet")');
    });
    cleanup.push(older.remove);
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    writeTree(temp.dir, { 'bin/ping': 'elf', 'etc/motd': 'hi' });
    run('setcap', ['cap_net_raw+ep', path.join(temp.dir, 'bin/ping')]);
    process.env.KILN_XATTR_HELPER = older.binary;
    const { snapshot, walker } = await snapshotWith(temp.dir, { threads: 2 });
    expect(walker).toBe('node');
    expect(Object.keys(snapshot.get('bin/ping')!.xattrs!)).toEqual(['security.capability']);
    expect(snapshot.get('etc/motd')!.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('fails as the in-process walk does on a directory it may not read (run as nobody)', () => {
    const helper = compileXattrHelper();
    cleanup.push(helper.remove);
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    const root = temp.dir;
    writeTree(root, { 'open/a': 'a', 'locked/b': 'b' });
    for (const dir of [root, path.dirname(helper.binary)]) chmodSync(dir, 0o755);
    chmodSync(path.join(root, 'locked'), 0o000);
    const index = new URL('./index.ts', import.meta.url).href;
    const script = `
      import { takeSnapshot } from ${JSON.stringify(index)};
      const outcomes = [];
      for (const threads of [1, 2]) {
        // One thread walks in process; two hand the walk to kiln-xattr (prefix rules only).
        await takeSnapshot(${JSON.stringify(root)}, { threads, strategy: 'full' }).then(
          () => outcomes.push('snapshot taken'),
          (error) => outcomes.push(error.code + ' / ' + error.message),
        );
      }
      console.log(JSON.stringify(outcomes));`;
    const output = execFileSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '--input-type=module',
        '-e',
        script,
      ],
      { env: { ...process.env, KILN_XATTR_HELPER: helper.binary }, encoding: 'utf8' },
    );
    const denied = `EACCES / EACCES: permission denied, scandir '${root}/locked'`;
    expect(JSON.parse(output)).toEqual([denied, denied]);
  });
});
