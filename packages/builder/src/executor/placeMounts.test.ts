import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecMount } from './executor.ts';
import { placeMounts } from './placeMounts.ts';

// Container mode's mounts without mount privileges, on a temp root standing in for `/`.
let dir: string;
let root: string;
let scratch: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-place-mounts-'));
  root = join(dir, 'root');
  scratch = join(dir, 'scratch');
  await mkdir(root);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function put(path: string, content = 'x'): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
}

/** Everything a snapshot would compare (path, type, mode, owner, content, mtime), sorted. */
async function fingerprint(top: string): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir(top, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const info = await lstat(path, { bigint: true });
    const content = info.isFile()
      ? await readFile(path, 'utf8')
      : info.isSymbolicLink()
        ? await readlink(path)
        : '';
    lines.push(
      `${path.slice(top.length)} ${info.mode.toString(8)} ${info.uid} ${content} ${micros(info.mtimeNs)}`,
    );
  }
  const info = await stat(top, { bigint: true });
  return [`/ ${micros(info.mtimeNs)}`, ...lines.sort()];
}

// Node's utimes takes seconds as a double: directory times come back to the microsecond.
const micros = (ns: bigint) => ns / 1000n;

const reserved = [{ path: '/kiln', reason: 'kiln' as const }];

describe('placeMounts', () => {
  it('puts cache, secret, tmpfs and bind content in place and leaves the root exactly as it was', async () => {
    await put(join(root, 'root/.cache/from-image'), 'image');
    await put(join(root, 'tmp/t'), 'image tmp');
    await put(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh');
    const cache = join(dir, 'cache');
    await put(join(cache, 'old'), 'cached before');
    const secret = join(dir, 'secret');
    await writeFile(secret, 's3cret', { mode: 0o400 });
    const src = join(dir, 'src');
    await put(join(src, 'input.txt'), 'from context');
    const before = await fingerprint(root);
    const mounts: ExecMount[] = [
      { kind: 'bind', source: cache, target: '/root/.cache', readonly: false, cache: 'locked' },
      { kind: 'bind', source: secret, target: '/run/secrets/tok', readonly: true },
      { kind: 'tmpfs', target: '/tmp' },
      { kind: 'bind', source: src, target: '/mnt/src', readonly: false },
    ];
    const takeBack = await placeMounts(root, mounts, scratch, reserved);
    // What the command sees.
    expect(await readdir(join(root, 'root/.cache'))).toEqual(['old']);
    expect(await readFile(join(root, 'run/secrets/tok'), 'utf8')).toBe('s3cret');
    expect((await stat(join(root, 'run/secrets/tok'))).mode & 0o777).toBe(0o400);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await readFile(join(root, 'mnt/src/input.txt'), 'utf8')).toBe('from context');
    // What the command does: writes into every mount, replaces one.
    await writeFile(join(root, 'root/.cache/new'), 'written by RUN');
    await writeFile(join(root, 'tmp/scratch'), 'gone after');
    await rm(join(root, 'mnt/src'), { recursive: true });
    await writeFile(join(root, 'mnt/src'), 'a file now');
    await takeBack();

    expect(await fingerprint(root)).toEqual(before);
    expect((await readdir(cache)).sort()).toEqual(['new', 'old']);
    expect(await readFile(src + '/input.txt', 'utf8')).toBe('from context');
  });

  it('a RUN that deletes a cache target empties the cache; the root is unchanged', async () => {
    const cache = join(dir, 'cache');
    await put(join(cache, 'old'));
    await mkdir(join(root, 'var'));
    const before = await fingerprint(root);
    const takeBack = await placeMounts(
      root,
      [{ kind: 'bind', source: cache, target: '/var/cache/apt', readonly: false, cache: 'shared' }],
      scratch,
      reserved,
    );
    await rm(join(root, 'var/cache'), { recursive: true });
    await takeBack();
    expect(await fingerprint(root)).toEqual(before);
    expect(await readdir(cache)).toEqual([]);
  });

  it('keeps files the RUN wrote beside a target in a parent Kiln created', async () => {
    const secret = join(dir, 'secret');
    await writeFile(secret, 's');
    const takeBack = await placeMounts(
      root,
      [{ kind: 'bind', source: secret, target: '/run/secrets/tok', readonly: true }],
      scratch,
      reserved,
    );
    await writeFile(join(root, 'run/secrets/mine'), 'RUN output');
    await takeBack();
    expect(await readdir(join(root, 'run/secrets'))).toEqual(['mine']);
  });

  it("refuses targets over Kiln's own dirs and never leaves the root through a symlinked parent", async () => {
    const outside = join(dir, 'outside');
    await put(join(outside, 'precious'), 'keep');
    await symlink('../../outside', join(root, 'escape'));
    await expect(
      placeMounts(root, [{ kind: 'tmpfs', target: '/kiln/work' }], scratch, reserved),
    ).rejects.toMatchObject({ code: 'MOUNT_TARGET_RESERVED' });
    await expect(
      placeMounts(root, [{ kind: 'tmpfs', target: '/' }], scratch, reserved),
    ).rejects.toMatchObject({
      code: 'MOUNT_TARGET_RESERVED',
    });
    const before = await fingerprint(outside);
    const takeBack = await placeMounts(
      root,
      [{ kind: 'tmpfs', target: '/escape/precious' }],
      scratch,
      reserved,
    );
    expect(await fingerprint(outside)).toEqual(before);
    await takeBack();
    expect(await fingerprint(outside)).toEqual(before);
  });

  it('a read-only cache is a copy: what the RUN writes there is not kept', async () => {
    const cache = join(dir, 'cache');
    await put(join(cache, 'old'), 'cached');
    const takeBack = await placeMounts(
      root,
      [{ kind: 'bind', source: cache, target: '/c', readonly: true, cache: 'shared' }],
      scratch,
      reserved,
    );
    expect(await readdir(join(root, 'c'))).toEqual(['old']);
    await writeFile(join(root, 'c/new'), 'discarded');
    await takeBack();
    expect(await readdir(cache)).toEqual(['old']);
    await expect(lstat(join(root, 'c'))).rejects.toThrow();
  });
});
