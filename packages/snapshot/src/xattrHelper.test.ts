import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { takeSnapshot } from './takeSnapshot.ts';
import { compileXattrHelper, gcc, makeTempDir, run, writeTree } from './testTree.ts';
import type { SnapshotEvent } from './types.ts';
import { resolveXattrHelper } from './xattrHelper.ts';

const python = ['/usr/bin/python3', '/usr/local/bin/python3', '/bin/python3'].find((c) => existsSync(c));

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const remove of cleanup) remove();
  cleanup = [];
  delete process.env.KILN_XATTR_HELPER;
});

function compileHelper(): string {
  const { binary, remove } = compileXattrHelper();
  cleanup.push(remove);
  return binary;
}

function xattrsOf(snapshot: Awaited<ReturnType<typeof takeSnapshot>>, file: string) {
  const xattrs = snapshot.get(file)?.xattrs ?? {};
  return Object.fromEntries(
    Object.entries(xattrs).map(([name, value]) => [name, Buffer.from(value).toString('hex')]),
  );
}

describe('resolveXattrHelper', () => {
  it('prefers $KILN_XATTR_HELPER, then kiln-xattr on $PATH, with argv [helper, mode], else python3 -c source mode', () => {
    expect(resolveXattrHelper('get', 'src', { KILN_XATTR_HELPER: '/opt/kx' })).toEqual({
      command: '/opt/kx',
      args: ['get'],
    });
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    writeFileSync(path.join(temp.dir, 'kiln-xattr'), '', { mode: 0o755 });
    if (!existsSync('/kiln/kiln-xattr')) {
      expect(resolveXattrHelper('get-dirs', 'src', { PATH: `relative:/nonexistent:${temp.dir}` })).toEqual({
        command: path.join(temp.dir, 'kiln-xattr'),
        args: ['get-dirs'],
      });
      if (python !== undefined) {
        expect(resolveXattrHelper('set', 'src', { PATH: '/nonexistent' })).toEqual({
          command: python,
          args: ['-c', 'src', 'set'],
        });
      }
    }
  });
});

/** Without kiln-xattr on $PATH for the length of `body`, so snapshots fall back to python3. */
async function withoutHelperOnPath<T>(body: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = (saved ?? '')
    .split(':')
    .filter((dir) => !existsSync(path.join(dir, 'kiln-xattr')))
    .join(':');
  try {
    return await body();
  } finally {
    process.env.PATH = saved;
  }
}

const skipReason = gcc === undefined ? ' (skipped: no gcc to compile images/executor/xattr-helper.c)' : '';

describe.skipIf(gcc === undefined)(`kiln-xattr (images/executor/xattr-helper.c)${skipReason}`, () => {
  it('snapshots the same xattrs as the python3 helper: setcap, user.*, long values, odd names', async () => {
    const helper = compileHelper();
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    const root = temp.dir;
    const long = `dir-${'d'.repeat(200)}/${'n'.repeat(250)}`;
    writeTree(root, { ping: 'elf', notes: 'n', plain: 'p', 'sub/é file\nx': 'u', [long]: 'l' });
    run('setcap', ['cap_net_raw+ep', path.join(root, 'ping')]);
    // Set through the helper's own `set` (the extraction protocol): JSON in, refusals out.
    const big = 'ab'.repeat(3000);
    const triples = [
      ['notes', 'user.kiln', Buffer.from('1').toString('hex')],
      ['notes', 'user.bin', 'ff0080'],
      ['notes', 'user.empty', ''],
      ['sub/é file\nx', 'user.\u00e9\u{1f600}"q\\', big],
      [long, 'user.kiln', '31'],
      ['missing', 'user.kiln', '31'],
    ];
    const set = spawnSync(helper, ['set'], { cwd: root, input: JSON.stringify(triples), encoding: 'utf8' });
    expect(set.status).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual([['missing', 'user.kiln', 'No such file or directory']]);

    process.env.KILN_XATTR_HELPER = helper;
    expect(resolveXattrHelper('get', '')).toEqual({ command: helper, args: ['get'] });
    const events: SnapshotEvent[] = [];
    const native = await takeSnapshot(root, { onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.type === 'xattrs-unavailable')).toEqual([]);
    expect(xattrsOf(native, 'ping')['security.capability']).toMatch(/^0[12]000002/);
    expect(xattrsOf(native, 'notes')).toEqual({ 'user.kiln': '31', 'user.bin': 'ff0080', 'user.empty': '' });
    expect(xattrsOf(native, 'sub/é file\nx')).toEqual({ 'user.\u00e9\u{1f600}"q\\': big });
    expect(xattrsOf(native, long)).toEqual({ 'user.kiln': '31' });
    expect(native.get('plain')!.xattrs).toBeUndefined();

    // A rescan asks by path (`get`) for entries whose ctime moved: the new xattr is seen, the rest carried.
    const triple = [['plain', 'user.later', '7a']];
    expect(spawnSync(helper, ['set'], { cwd: root, input: JSON.stringify(triple) }).status).toBe(0);
    const rescan = await takeSnapshot(root, { previous: native });
    expect(xattrsOf(rescan, 'plain')).toEqual({ 'user.later': '7a' });
    expect(xattrsOf(rescan, 'notes')).toEqual(xattrsOf(native, 'notes'));

    if (python === undefined) return;
    delete process.env.KILN_XATTR_HELPER;
    const viaPython = await withoutHelperOnPath(() => takeSnapshot(root, { onEvent: (e) => events.push(e) }));
    const pythonRescan = await withoutHelperOnPath(() => takeSnapshot(root, { previous: native }));
    expect(events.filter((e) => e.type === 'xattrs-unavailable')).toEqual([]);
    for (const file of ['ping', 'notes', 'plain', 'sub', 'sub/é file\nx', long]) {
      expect(xattrsOf(rescan, file)).toEqual(xattrsOf(viaPython, file));
      expect(xattrsOf(rescan, file)).toEqual(xattrsOf(pythonRescan, file));
    }
  });

  it('answers nothing for empty input and positions across a trailing path without NUL', () => {
    const helper = compileHelper();
    const temp = makeTempDir();
    cleanup.push(temp.remove);
    writeTree(temp.dir, { a: 'a', b: 'b' });
    run('setcap', ['cap_net_raw+ep', path.join(temp.dir, 'b')]);
    expect(spawnSync(helper, ['get'], { cwd: temp.dir, input: '' })).toMatchObject({ status: 0 });
    const got = spawnSync(helper, ['get'], { cwd: temp.dir, input: 'a\0nope\0b' });
    expect(got.status).toBe(0);
    const fields = got.stdout.toString('utf8').split('\0');
    expect(fields.slice(0, 3)).toEqual(['2', '1', 'security.capability']);
    // get-dirs: by directory position, then the entry's name; a symlinked or missing directory answers nothing.
    symlinkSync('.', path.join(temp.dir, 'self'));
    const dirs = spawnSync(helper, ['get-dirs'], { cwd: temp.dir, input: 'nope\0self\0.' });
    expect(dirs.status).toBe(0);
    expect(dirs.stdout.toString('utf8').split('\0').slice(0, 4)).toEqual([
      '2',
      'b',
      '1',
      'security.capability',
    ]);
    expect(spawnSync(helper, ['set'], { input: '[["a",' }).status).toBe(1);
    expect(spawnSync(helper, [], {}).status).toBe(2);
  });
});
