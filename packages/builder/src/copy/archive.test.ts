import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractArchive, isLocalArchive } from './archive.ts';

let dir: string;
let dest: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-add-archive-'));
  dest = join(dir, 'stage', 'opt');
  mkdirSync(dest, { recursive: true });
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A tar of `files` made with Python's tarfile (another writer than Kiln's), then compressed by the host tool. */
function archive(
  name: string,
  files: Array<[string, string, string?]>,
  compress?: 'gzip' | 'bzip2' | 'xz',
): string {
  const script = `
import io, json, sys, tarfile
with tarfile.open(sys.argv[1], 'w') as tar:
    for name, kind, extra in json.loads(sys.argv[2]):
        info = tarfile.TarInfo(name)
        info.uid, info.gid, info.mode = 1000, 1000, 0o640
        data = None
        if kind == 'file':
            data = extra.encode(); info.size = len(data)
        elif kind == 'symlink':
            info.type = tarfile.SYMTYPE; info.linkname = extra
        elif kind == 'link':
            info.type = tarfile.LNKTYPE; info.linkname = extra
        tar.addfile(info, io.BytesIO(data) if data is not None else None)
`;
  const file = join(dir, name);
  execFileSync('python3', ['-c', script, file, JSON.stringify(files)]);
  if (compress) {
    writeFileSync(`${file}.tmp`, execFileSync(compress, ['-c', file]));
    execFileSync('mv', [`${file}.tmp`, file]);
  }
  return file;
}

describe('isLocalArchive', () => {
  it('goes by content, not by name', async () => {
    expect(await isLocalArchive(archive('plain.bin', [['a', 'file', 'x']]))).toBe(true);
    expect(await isLocalArchive(archive('gz.bin', [['a', 'file', 'x']], 'gzip'))).toBe(true);
    expect(await isLocalArchive(archive('bz.bin', [['a', 'file', 'x']], 'bzip2'))).toBe(true);
    expect(await isLocalArchive(archive('xz.bin', [['a', 'file', 'x']], 'xz'))).toBe(true);
    const notTar = join(dir, 'notes.txt.gz');
    writeFileSync(notTar, execFileSync('gzip', ['-c'], { input: 'notes\n' }));
    expect(await isLocalArchive(notTar)).toBe(false);
    const random = join(dir, 'x.tar.gz');
    writeFileSync(random, Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919) % 251)));
    expect(await isLocalArchive(random)).toBe(false);
  });
});

describe('extractArchive', () => {
  it('unpacks into the destination with the archive’s owners and returns symlink-free paths', async () => {
    mkdirSync(join(dest, 'real'));
    symlinkSync('real', join(dest, 'alias'));
    const paths = await extractArchive(
      archive(
        'a.tgz',
        [
          ['alias/f', 'file', 'through the link'],
          ['g', 'file', 'plain'],
        ],
        'gzip',
      ),
      dest,
      'Dockerfile:3',
    );
    expect(paths).toEqual(['g', 'real/f']);
    expect(readFileSync(join(dest, 'real/f'), 'utf8')).toBe('through the link');
    expect(lstatSync(join(dest, 'g'))).toMatchObject({ uid: 1000, gid: 1000 });
  });

  it('--chown owns every entry', async () => {
    await extractArchive(archive('a.tar', [['g', 'file', 'x']]), dest, 'Dockerfile:3', {
      owner: { uid: 7, gid: 8 },
    });
    expect(lstatSync(join(dest, 'g'))).toMatchObject({ uid: 7, gid: 8 });
  });

  it('an entry climbing out is ADD_UNSAFE_PATH, naming the line and the archive', async () => {
    const error = await extractArchive(
      archive('evil.tar', [
        ['up', 'symlink', '../../../../..'],
        ['up/x', 'file', 'x'],
      ]),
      dest,
      'Dockerfile:3',
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ADD_UNSAFE_PATH' });
    expect((error as Error).message).toMatch(/^Dockerfile:3: cannot unpack evil\.tar: /);
  });

  it('a hard link to a missing file is ADD_EXTRACT_FAILED without host paths in the message', async () => {
    const error = await extractArchive(
      archive('links.tar', [['stolen', 'link', '/etc/hostname']]),
      dest,
      'Dockerfile:4',
      { imageDir: '/opt' },
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ADD_EXTRACT_FAILED' });
    expect((error as Error).message).not.toContain(dir);
  });
});
