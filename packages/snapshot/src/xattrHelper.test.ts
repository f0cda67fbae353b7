import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeHashPool } from './hashPool.ts';
import { takeSnapshot } from './takeSnapshot.ts';
import { makeTempDir, run, writeTree } from './testTree.ts';
import type { SnapshotEvent } from './types.ts';
import { resolveXattrHelper } from './xattrHelper.ts';

const source = fileURLToPath(new URL('../../../images/executor/xattr-helper.c', import.meta.url));
const gcc = ['/usr/bin/gcc', '/usr/local/bin/gcc', '/bin/gcc'].find((candidate) => existsSync(candidate));
const python = ['/usr/bin/python3', '/usr/local/bin/python3', '/bin/python3'].find((c) => existsSync(c));

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const remove of cleanup) remove();
  cleanup = [];
  delete process.env.KILN_XATTR_HELPER;
});
afterAll(closeHashPool);

/** Compiles images/executor/xattr-helper.c the way the executor image does (static). */
function compileHelper(): string {
  const temp = makeTempDir('kiln-xattr-helper-');
  cleanup.push(temp.remove);
  const binary = path.join(temp.dir, 'kiln-xattr');
  execFileSync(gcc!, ['-static', '-O2', '-Wall', '-Werror', '-o', binary, source], { stdio: 'pipe' });
  return binary;
}

function xattrsOf(snapshot: Awaited<ReturnType<typeof takeSnapshot>>, file: string) {
  const xattrs = snapshot.get(file)?.xattrs ?? {};
  return Object.fromEntries(
    Object.entries(xattrs).map(([name, value]) => [name, Buffer.from(value).toString('hex')]),
  );
}

describe('resolveXattrHelper', () => {
  it('prefers $KILN_XATTR_HELPER with argv [helper, mode], else python3 -c source', () => {
    expect(resolveXattrHelper('get', 'src', { KILN_XATTR_HELPER: '/opt/kx' })).toEqual({
      command: '/opt/kx',
      args: ['get'],
    });
    const fallback = resolveXattrHelper('set', 'src', {});
    if (!existsSync('/kiln/kiln-xattr') && python !== undefined) {
      expect(fallback).toEqual({ command: python, args: ['-c', 'src'] });
    }
  });
});

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

    if (python === undefined) return;
    delete process.env.KILN_XATTR_HELPER;
    const viaPython = await takeSnapshot(root);
    for (const file of ['ping', 'notes', 'plain', 'sub', 'sub/é file\nx', long]) {
      expect(xattrsOf(native, file)).toEqual(xattrsOf(viaPython, file));
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
    expect(spawnSync(helper, ['set'], { input: '[["a",' }).status).toBe(1);
    expect(spawnSync(helper, [], {}).status).toBe(2);
  });
});
