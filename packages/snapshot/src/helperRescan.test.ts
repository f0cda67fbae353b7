import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { snapshotColumns } from './compactSnapshot.ts';
import { diffSnapshots } from './diffSnapshots.ts';
import { rescanHelper, rescanRequestBytes, rescanWithHelper } from './helperRescan.ts';
import { encodedPaths } from './pathEncoding.ts';
import { deserializeSnapshot, serializeSnapshot } from './serializeSnapshot.ts';
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
  return { snapshot, walker: walked?.type === 'snapshot-walked' ? walked.walker : undefined, events };
}

/**
 * The helper as built now, and as built before `rescan` existed (asked for it, that one answers with its
 * usage, exit 2): compiled once for the file.
 */
let built: { current: string; older: string } | undefined;
const removeBuilt: Array<() => void> = [];
afterAll(() => {
  for (const remove of removeBuilt.splice(0)) remove();
});
function helpers() {
  if (built !== undefined) return built;
  const current = compileXattrHelper();
  const dispatch = 'strcmp(argv[1], "rescan")';
  const older = compileXattrHelper((source) => {
    expect(source).toContain(dispatch);
    return source.replace(dispatch, 'strcmp(argv[1], "rescan-not-yet")');
  });
  removeBuilt.push(current.remove, older.remove);
  built = { current: current.binary, older: older.binary };
  return built;
}

function tree() {
  const temp = makeTempDir();
  cleanup.push(temp.remove);
  const root = temp.dir;
  writeTree(root, {
    'a-b': 'sorts between a and a/',
    'a/x': 'x',
    'a/é ü/file with spaces': 'utf-8',
    'a/z/y/x/w/v': 'deep',
    'chmod-me': 'c',
    'chown-me': 'c',
    'rewrite-same-size': 'aaaa',
    'touch-me': 't',
    'replace-me': 'old inode',
    'file-to-dir': 'f',
    'dir-to-file/child': 'c',
    'gone/one': '1',
    'gone/two': '2',
    'gone-file': 'g',
    'xattr-me': 'x',
    'link-me': 'l',
    'var/cache/apt/pkg': 'ignored by the caller',
    'proc/1/status': 'ignored by default',
    emptied: null,
    keep: 'same',
  });
  for (let i = 0; i < 3; i++) writeFileSync(path.join(root, `emptied/child-${i}`), `${i}`);
  // More names than one 64 KiB getdents64 reply holds: the helper must ask again.
  mkdirSync(path.join(root, 'many'));
  for (let i = 0; i < 1500; i++) writeFileSync(path.join(root, `many/${'n'.repeat(60)}-${i}`), '');
  symlinkSync('aaaa', path.join(root, 'retarget'));
  run('mknod', [path.join(root, 'device'), 'c', '1', '3']);
  setXattr(path.join(root, 'a'), 'user.dir', 'on a directory');
  return root;
}

/** One change of every kind find would show, and some only a hash or xattr read would. */
function changeEverything(root: string) {
  const at = (rel: string) => path.join(root, rel);
  chmodSync(at('chmod-me'), 0o600);
  chownSync(at('chown-me'), 1234, 5678);
  writeFileSync(at('rewrite-same-size'), 'bbbb');
  utimesSync(at('rewrite-same-size'), 1_000_000, 1_000_000);
  utimesSync(at('touch-me'), 2_000_000, 2_000_000);
  writeFileSync(at('replace-me.tmp'), 'new inode');
  renameSync(at('replace-me.tmp'), at('replace-me'));
  rmSync(at('file-to-dir'));
  mkdirSync(at('file-to-dir'));
  writeFileSync(at('file-to-dir/inside'), 'i');
  rmSync(at('dir-to-file'), { recursive: true });
  writeFileSync(at('dir-to-file'), 'now a file');
  rmSync(at('gone'), { recursive: true });
  rmSync(at('gone-file'));
  setXattr(at('xattr-me'), 'user.new', 'value');
  linkSync(at('link-me'), at('a/hardlink'));
  for (let i = 0; i < 3; i++) rmSync(at(`emptied/child-${i}`));
  writeFileSync(at('emptied/fresh'), 'fresh');
  rmSync(at('retarget'));
  symlinkSync('bbbb', at('retarget'));
  rmSync(at('device'));
  run('mknod', [at('device'), 'c', '1', '5']);
  writeTree(root, { 'added/deep/file': 'new', 'zz-added': 'new' });
  rmSync(at(`many/${'n'.repeat(60)}-1499`));
}

const skipReason = gcc === undefined ? ' (skipped: no gcc to compile images/executor/xattr-helper.c)' : '';

describe.skipIf(gcc === undefined)(`kiln-xattr rescan${skipReason}`, () => {
  for (const strategy of ['incremental', 'metadata'] as const) {
    it(`finds what the in-process rescan finds, field for field (${strategy})`, async () => {
      const { current, older } = helpers();
      const root = tree();
      const options: SnapshotOptions = { strategy, threads: 2, ignore: ['/var/cache'] };
      process.env.KILN_XATTR_HELPER = current;
      const before = await takeSnapshot(root, options);
      changeEverything(root);

      const viaHelper = await snapshotWith(root, { ...options, previous: before });
      process.env.KILN_XATTR_HELPER = older;
      const inProcess = await snapshotWith(root, { ...options, previous: before });
      expect(viaHelper.walker).toBe('kiln-xattr');
      expect(inProcess.walker).toBe('node');
      expect(entries(viaHelper.snapshot)).toEqual(entries(inProcess.snapshot));
      const diff = diffSnapshots(before, viaHelper.snapshot);
      expect(diff).toEqual(diffSnapshots(before, inProcess.snapshot));

      const kinds = Object.fromEntries(diff.changes.map((change) => [change.path, change.kind]));
      for (const changed of [
        'chmod-me',
        'chown-me',
        'rewrite-same-size',
        'replace-me',
        'file-to-dir',
        'dir-to-file',
        'xattr-me',
        'link-me',
        'retarget',
        'device',
      ])
        expect(kinds[changed], changed).toBe('modified');
      for (const gone of ['gone', 'gone-file', `many/${'n'.repeat(60)}-1499`])
        expect(kinds[gone], gone).toBe('deleted');
      expect(viaHelper.snapshot.size).toBe(inProcess.snapshot.size);
      for (const added of ['a/hardlink', 'added', 'added/deep/file', 'zz-added', 'file-to-dir/inside'])
        expect(kinds[added], added).toBe('added');
      expect(diff.opaqueDirs).toEqual(['emptied']);
      expect(kinds.keep).toBeUndefined();
      expect(kinds['var/cache']).toBeUndefined();
      expect(viaHelper.snapshot.get('xattr-me')!.xattrs).toEqual({ 'user.new': expect.any(Uint8Array) });
      expect(Object.keys(viaHelper.snapshot.get('a')!.xattrs!)).toEqual(['user.dir']);
      expect(viaHelper.snapshot.get('retarget')!.linkTarget).toBe('bbbb');
      if (strategy === 'incremental') {
        // Only the files that changed were read.
        expect(viaHelper.snapshot.stats.filesHashed).toBe(inProcess.snapshot.stats.filesHashed);
        expect(viaHelper.snapshot.get('keep')!.hash).toBe(before.get('keep')!.hash);
      }
    });
  }

  it('answers an unchanged tree with the previous snapshot itself, and a saved one without splitting its paths', async () => {
    const { current } = helpers();
    const root = tree();
    process.env.KILN_XATTR_HELPER = current;
    const before = await takeSnapshot(root, { threads: 2 });
    const again = await snapshotWith(root, { threads: 2, previous: before });
    expect(again.walker).toBe('kiln-xattr');
    expect(snapshotColumns(again.snapshot)).toBe(snapshotColumns(before));
    expect(again.snapshot.stats.filesHashed).toBe(0);
    expect(diffSnapshots(before, again.snapshot)).toEqual({ changes: [], opaqueDirs: [] });

    const saved = deserializeSnapshot(serializeSnapshot(before));
    const fromSaved = await takeSnapshot(root, { threads: 2, previous: saved });
    expect(Object.getOwnPropertyDescriptor(snapshotColumns(saved), 'paths')!.get).toBeDefined();
    expect(diffSnapshots(saved, fromSaved)).toEqual({ changes: [], opaqueDirs: [] });
    expect(entries(fromSaved)).toEqual(entries(before));
    // A change in a saved snapshot's tree is found as from a live one.
    writeFileSync(path.join(root, 'keep'), 'changed');
    const changed = await takeSnapshot(root, { threads: 2, previous: saved });
    expect(diffSnapshots(saved, changed).changes.map((change) => change.path)).toEqual(['keep']);
  });

  it('chains rescans as a build does, each sending the paths derived from the one before', async () => {
    const { current, older } = helpers();
    const root = tree();
    process.env.KILN_XATTR_HELPER = current;
    let previous = await takeSnapshot(root, { threads: 2 });
    const steps: Array<(at: (rel: string) => string) => void> = [
      (at) => writeFileSync(at('0-first'), 'sorts first'),
      (at) => {
        rmSync(at('a'), { recursive: true });
        writeFileSync(at('zzz-last'), 'sorts last');
      },
      (at) => {
        rmSync(at('0-first'));
        writeTree(root, { 'many/extra/deep': 'x', 'keep-2': 'y' });
      },
      () => {},
    ];
    for (const step of steps) {
      step((rel) => path.join(root, rel));
      process.env.KILN_XATTR_HELPER = current;
      const after = await snapshotWith(root, { threads: 2, previous });
      process.env.KILN_XATTR_HELPER = older;
      const inProcess = await takeSnapshot(root, { threads: 2, previous });
      expect(after.walker).toBe('kiln-xattr');
      expect(entries(after.snapshot)).toEqual(entries(inProcess));
      expect(diffSnapshots(previous, after.snapshot)).toEqual(diffSnapshots(previous, inProcess));
      const columns = snapshotColumns(after.snapshot);
      const encoded = encodedPaths(columns);
      expect(Buffer.from(encoded.bytes).toString('utf8')).toBe(columns.paths.join('\0'));
      if (encoded.offsets !== undefined) {
        const starts = columns.paths.map(
          (_, i) => Buffer.byteLength(columns.paths.slice(0, i).join('\0')) + (i > 0 ? 1 : 0),
        );
        expect([...encoded.offsets.subarray(0, columns.paths.length)]).toEqual(starts);
      }
      previous = after.snapshot;
    }
  });

  it('fails as the in-process rescan does on a directory it may not read (run as nobody)', async () => {
    const { current, older } = helpers();
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    const root = path.join(temp.dir, 'root');
    writeTree(root, { 'open/a': 'a', 'locked/b': 'b' });
    const saved = path.join(temp.dir, 'saved');
    writeFileSync(saved, serializeSnapshot(await takeSnapshot(root, { threads: 2 })));
    for (const dir of [temp.dir, root, path.dirname(current), path.dirname(older)]) chmodSync(dir, 0o755);
    chmodSync(saved, 0o644);
    chmodSync(path.join(root, 'locked'), 0o000);
    const index = new URL('./index.ts', import.meta.url).href;
    const outcomes: string[] = [];
    for (const helper of [current, older]) {
      const script = `
        import { readFileSync } from 'node:fs';
        import { deserializeSnapshot, takeSnapshot } from ${JSON.stringify(index)};
        const previous = deserializeSnapshot(readFileSync(${JSON.stringify(saved)}));
        await takeSnapshot(${JSON.stringify(root)}, { threads: 2, previous, xattrs: false }).then(
          () => console.log('snapshot taken'),
          (error) => console.log(error.code + ' / ' + error.message),
        );`;
      const { execFileSync } = await import('node:child_process');
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
        { env: { ...process.env, KILN_XATTR_HELPER: helper }, encoding: 'utf8' },
      );
      outcomes.push(output.trim());
    }
    const denied = `EACCES / EACCES: permission denied, scandir '${root}/locked'`;
    expect(outcomes).toEqual([denied, denied]);
  });

  it('rescans in process when kiln-xattr predates `rescan`, or for the full strategy', async () => {
    const { current, older } = helpers();
    const root = tree();
    process.env.KILN_XATTR_HELPER = current;
    const before = await takeSnapshot(root, { threads: 2 });
    expect((await snapshotWith(root, { threads: 2, previous: before, strategy: 'full' })).walker).toBe(
      'node',
    );
    expect((await snapshotWith(root, { threads: 2, previous: before, ignore: ['*.log'] })).walker).toBe(
      'node',
    );
    expect((await snapshotWith(root, { threads: 1, previous: before })).walker).toBe('kiln-xattr');
    process.env.KILN_XATTR_HELPER = older;
    expect((await snapshotWith(root, { threads: 2, previous: before })).walker).toBe('node');
    expect(rescanHelper({ PATH: '' })).toBeUndefined();
  });

  it('refuses a damaged saved snapshot with SNAPSHOT_BAD_FILE, never reading past what it was given', async () => {
    const { current } = helpers();
    const root = tree();
    process.env.KILN_XATTR_HELPER = current;
    const before = await takeSnapshot(root, { threads: 2 });
    const bytes = Buffer.from(serializeSnapshot(before));
    const headerLength = bytes.readUInt32LE(8);
    const header = JSON.parse(bytes.toString('utf8', 12, 12 + headerLength));
    const withHeader = (edit: (h: typeof header) => void) => {
      const h = structuredClone(header);
      edit(h);
      const json = Buffer.from(JSON.stringify(h));
      const length = Buffer.alloc(4);
      length.writeUInt32LE(json.length);
      return Buffer.concat([bytes.subarray(0, 8), length, json, bytes.subarray(12 + headerLength)]);
    };
    const bad = expect.objectContaining({ code: 'SNAPSHOT_BAD_FILE' });
    // A count that would ask for gigabytes, and one past the columns: refused on load.
    expect(() => deserializeSnapshot(withHeader((h) => (h.count = 2 ** 31)))).toThrow(bad);
    expect(() => deserializeSnapshot(withHeader((h) => (h.pathBytes = 2 ** 40)))).toThrow(bad);

    const rescanOf = (file: Buffer) =>
      takeSnapshot(root, { threads: 2, previous: deserializeSnapshot(file) });
    // Paths swapped (the merge needs byte order), a symlink target for a row that does not exist, and
    // path bytes that hold one path too few: the helper checks each before it compares anything.
    const paths = bytes.subarray(12 + headerLength, 12 + headerLength + header.pathBytes);
    const names = paths.toString('utf8').split('\0');
    const firstLength = Buffer.byteLength(names[0]!);
    [names[0], names[1]] = [names[1]!, names[0]!];
    const swapped = Buffer.from(bytes);
    Buffer.from(names.join('\0')).copy(swapped, 12 + headerLength);
    await expect(rescanOf(swapped)).rejects.toThrow(bad);
    await expect(rescanOf(withHeader((h) => h.linkTargets.push([h.count + 7, 'x'])))).rejects.toThrow(bad);
    const merged = Buffer.from(bytes);
    merged[12 + headerLength + firstLength] = 0x2f; // the first NUL becomes '/'
    await expect(rescanOf(merged)).rejects.toThrow(bad);

    // The helper itself, given fewer bytes than the header announces, reads none past them.
    const columns = snapshotColumns(before);
    const request = Buffer.concat(
      rescanRequestBytes({ root, ignored: [], previous: columns, threads: 2, xattrs: true }),
    );
    const visitor = { keep: () => {}, entry: () => {}, skipped: () => {} };
    const cut = { command: current, args: ['rescan'] };
    const { spawnSync } = await import('node:child_process');
    const result = spawnSync(current, ['rescan'], {
      cwd: root,
      input: request.subarray(0, request.length - 9),
    });
    expect(result.status).toBe(1);
    expect(result.stderr.toString()).toContain('malformed input');
    await expect(
      rescanWithHelper(cut, { root, ignored: [], previous: columns, threads: 2, xattrs: true }, visitor),
    ).resolves.toBe(true);
  });
});
