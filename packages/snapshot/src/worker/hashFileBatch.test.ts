import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HASH_NOT_FILE, HASH_OK, HASH_VANISHED } from '../hashMessages.ts';
import { unpackStat } from '../listDirectory.ts';
import { makeTempDir, run } from '../testTree.ts';
import { hashFileBatch } from './hashFileBatch.ts';

let remove: (() => void) | undefined;
afterEach(() => remove?.());

describe('hashFileBatch with stat', () => {
  it('fstats what it hashes, and reports symlinks, dirs, fifos and missing files without blocking', async () => {
    const temp = makeTempDir();
    remove = temp.remove;
    const at = (name: string) => path.join(temp.dir, name);
    writeFileSync(at('file'), 'twelve bytes');
    symlinkSync('file', at('link'));
    mkdirSync(at('dir'));
    run('mkfifo', [at('fifo')]);
    const paths = ['file', 'link', 'dir', 'fifo', 'gone'].map(at);

    const { view } = await hashFileBatch(paths, true);
    expect([...view.status]).toEqual([HASH_OK, HASH_NOT_FILE, HASH_NOT_FILE, HASH_NOT_FILE, HASH_VANISHED]);
    const lstat = lstatSync(at('file'), { bigint: true });
    expect(unpackStat(view.statNumbers!, view.statTimes!, 0)).toEqual({
      mode: Number(lstat.mode),
      uid: Number(lstat.uid),
      gid: Number(lstat.gid),
      size: 12,
      dev: Number(lstat.dev),
      ino: Number(lstat.ino),
      nlink: 1,
      rdev: 0,
      mtimeNs: lstat.mtimeNs,
      ctimeNs: lstat.ctimeNs,
    });
    expect(view.bytes[0]).toBe(12);

    const plain = await hashFileBatch([at('file'), at('link')]);
    expect([...plain.view.status]).toEqual([HASH_OK, HASH_OK]);
    expect(plain.view.hashes[1]).toBe(view.hashes[0]);
    expect(plain.view.statNumbers).toBeUndefined();
  });
});
