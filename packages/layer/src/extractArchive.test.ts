import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractArchive, isTarArchive } from './extractArchive.ts';
import { contentPadding, encodeTarHeader, type TarEntryType } from './tarHeader.ts';

interface Member {
  name: string;
  type?: TarEntryType;
  content?: string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  xattrs?: Record<string, Uint8Array>;
  devmajor?: number;
  devminor?: number;
}

/** A tar made with Kiln's own header encoder, so names and links can be as hostile as a test needs. */
function tar(members: Member[]): Buffer {
  const parts: Buffer[] = [];
  for (const member of members) {
    const type = member.type ?? 'file';
    const content = Buffer.from(member.content ?? '');
    const size = type === 'file' ? content.length : 0;
    parts.push(
      encodeTarHeader({
        name: member.name,
        type,
        mode: member.mode ?? (type === 'dir' ? 0o755 : 0o644),
        uid: member.uid ?? 0,
        gid: member.gid ?? 0,
        size,
        mtime: member.mtime ?? 1_700_000_000,
        ...(member.linkname === undefined ? {} : { linkname: member.linkname }),
        ...(member.xattrs === undefined ? {} : { xattrs: member.xattrs }),
        ...(member.devmajor === undefined
          ? {}
          : { devmajor: member.devmajor, devminor: member.devminor ?? 0 }),
      }),
    );
    if (size > 0) parts.push(content, Buffer.alloc(contentPadding(size)));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

let dir: string;
let root: string;
let outside: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-archive-'));
  root = join(dir, 'root');
  mkdirSync(root);
  // A tree outside the root, as the host's files would be: nothing may reach it.
  outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'host secret\n', { mode: 0o600 });
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, data: Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, data);
  return file;
}

/** Compresses with the host's own tool (tests only), as a user's archive would be made. */
function compress(tool: 'gzip' | 'bzip2' | 'xz', data: Buffer): Buffer {
  return execFileSync(tool, ['-c', '-1'], { input: data, maxBuffer: 64 * 1024 * 1024 });
}

function outsideUnchanged() {
  expect(
    execFileSync('find', [outside, '-printf', '%P %y %m\n'], { encoding: 'utf8' }).split('\n').sort(),
  ).toEqual(['', ' d 755', 'secret.txt f 600'].sort());
}

const sample: Member[] = [
  { name: 'app', type: 'dir', mode: 0o750, uid: 1000, gid: 1001, mtime: 1_600_000_000 },
  { name: 'app/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o4755, uid: 1000, gid: 1001 },
  { name: 'app/current', type: 'symlink', linkname: 'run.sh' },
  { name: 'app/again', type: 'hardlink', linkname: 'app/run.sh', mode: 0o4755, uid: 1000, gid: 1001 },
  { name: 'app/deep/er/file', content: 'deep\n' },
];

describe('isTarArchive', () => {
  it('recognises tar by content, whatever the compression', () => {
    const plain = tar(sample);
    return Promise.all([
      expect(isTarArchive(write('a.tar', plain))).resolves.toBe(true),
      expect(isTarArchive(write('a.bin', compress('gzip', plain)))).resolves.toBe(true),
      expect(isTarArchive(write('b.bin', compress('bzip2', plain)))).resolves.toBe(true),
      expect(isTarArchive(write('c.bin', compress('xz', plain)))).resolves.toBe(true),
      expect(isTarArchive(write('d.bin', zstdCompressSync(plain)))).resolves.toBe(true),
    ]);
  });

  it('says no to what is not a tar, compressed or not', async () => {
    const text = Buffer.from('just some text\n'.repeat(100));
    expect(await isTarArchive(write('x.tar.gz', compress('gzip', text)))).toBe(false);
    expect(await isTarArchive(write('x.tar.bz2', compress('bzip2', text)))).toBe(false);
    expect(await isTarArchive(write('x.tar.xz', compress('xz', text)))).toBe(false);
    expect(await isTarArchive(write('small.gz', compress('gzip', Buffer.from('hi\n'))))).toBe(false);
    expect(await isTarArchive(write('random.tar.gz', randomBytes(4096)))).toBe(false);
    expect(await isTarArchive(write('empty.tar', Buffer.alloc(0)))).toBe(false);
    // An archive with no entry at all: Go's tar reader reports EOF, so BuildKit copies it.
    expect(await isTarArchive(write('zeros.tar', Buffer.alloc(1024)))).toBe(false);
    // gzip magic, then garbage.
    expect(
      await isTarArchive(write('bad.gz', Buffer.concat([Buffer.from([0x1f, 0x8b, 8]), randomBytes(600)]))),
    ).toBe(false);
  });

  it('a truncated compressed tar is one when its first header still reads, as BuildKit probes', async () => {
    const big = tar([{ name: 'big', content: randomBytes(200_000).toString('hex') }]);
    const gz = compress('gzip', big);
    expect(await isTarArchive(write('cut-late.tar.gz', gz.subarray(0, gz.length - 1000)))).toBe(true);
    expect(await isTarArchive(write('cut-early.tar.gz', gz.subarray(0, 20)))).toBe(false);
  });
});

describe('extractArchive', () => {
  it('unpacks files, directories, symlinks and hard links with owners, modes and times', async () => {
    const result = await extractArchive(write('a.tar', tar(sample)), root);
    expect(result).toMatchObject({ compression: 'none', entries: 5 });
    expect(result.paths).toEqual(['app', 'app/again', 'app/current', 'app/deep/er/file', 'app/run.sh']);
    const app = statSync(join(root, 'app'));
    expect([app.mode & 0o7777, app.uid, app.gid, app.mtimeMs / 1000]).toEqual([
      0o750, 1000, 1001, 1_600_000_000,
    ]);
    const run = statSync(join(root, 'app/run.sh'));
    expect([run.mode & 0o7777, run.uid, run.gid, run.nlink]).toEqual([0o4755, 1000, 1001, 2]);
    expect(statSync(join(root, 'app/again')).ino).toBe(run.ino);
    expect(readlinkSync(join(root, 'app/current'))).toBe('run.sh');
    // Implied parents: 0755, root's.
    expect(statSync(join(root, 'app/deep')).mode & 0o7777).toBe(0o755);
  });

  it.each([
    ['gzip', (data: Buffer) => compress('gzip', data)],
    ['bzip2', (data: Buffer) => compress('bzip2', data)],
    ['xz', (data: Buffer) => compress('xz', data)],
    ['zstd', (data: Buffer) => zstdCompressSync(data)],
  ] as const)('unpacks a %s tar', async (compression, pack) => {
    const result = await extractArchive(write('a.any', pack(tar(sample))), root);
    expect(result.compression).toBe(compression);
    expect(readFileSync(join(root, 'app/deep/er/file'), 'utf8')).toBe('deep\n');
  });

  it('--chown gives every entry the owner; leading / in names is dropped', async () => {
    const archive = tar([
      { name: '/etc/conf', content: 'x', uid: 5, gid: 6 },
      { name: './a/', type: 'dir', uid: 7 },
    ]);
    const result = await extractArchive(write('a.tar', archive), root, { owner: { uid: 1234, gid: 4321 } });
    expect(result.paths).toEqual(['a', 'etc/conf']);
    for (const path of ['etc/conf', 'a']) {
      const info = lstatSync(join(root, path));
      expect([info.uid, info.gid]).toEqual([1234, 4321]);
    }
  });

  it('replaces what is there, except that a directory over a directory merges', async () => {
    mkdirSync(join(root, 'keep'));
    writeFileSync(join(root, 'keep/old'), 'old');
    writeFileSync(join(root, 'was-file'), 'file');
    mkdirSync(join(root, 'was-dir/sub'), { recursive: true });
    symlinkSync(outside, join(root, 'was-link'));
    await extractArchive(
      write(
        'a.tar',
        tar([
          { name: 'keep', type: 'dir', mode: 0o711 },
          { name: 'keep/new', content: 'new' },
          { name: 'was-file', type: 'dir' },
          { name: 'was-dir', content: 'now a file' },
          { name: 'was-link', type: 'dir' },
        ]),
      ),
      root,
    );
    expect(readFileSync(join(root, 'keep/old'), 'utf8')).toBe('old');
    expect(statSync(join(root, 'keep')).mode & 0o7777).toBe(0o711);
    expect(lstatSync(join(root, 'was-file')).isDirectory()).toBe(true);
    expect(readFileSync(join(root, 'was-dir'), 'utf8')).toBe('now a file');
    expect(lstatSync(join(root, 'was-link')).isDirectory()).toBe(true);
    outsideUnchanged();
  });

  it('writes .wh.* entries as ordinary files, as BuildKit does for ADD', async () => {
    writeFileSync(join(root, 'victim'), 'still here');
    await extractArchive(write('a.tar', tar([{ name: '.wh.victim', content: '' }])), root);
    expect(readFileSync(join(root, 'victim'), 'utf8')).toBe('still here');
    expect(existsSync(join(root, '.wh.victim'))).toBe(true);
  });

  it('sets xattrs from the archive', async () => {
    const archive = tar([{ name: 'f', content: 'x', xattrs: { 'user.kiln': Buffer.from('value') } }]);
    await extractArchive(write('a.tar', archive), root);
    const value = execFileSync('python3', [
      '-c',
      'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], "user.kiln").decode())',
      join(root, 'f'),
    ]);
    expect(value.toString()).toBe('value');
  });

  it('makes devices and fifos', async () => {
    await extractArchive(
      write(
        'a.tar',
        tar([
          { name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
          { name: 'pipe', type: 'fifo', mode: 0o600 },
        ]),
      ),
      root,
    );
    expect(lstatSync(join(root, 'null')).isCharacterDevice()).toBe(true);
    expect(lstatSync(join(root, 'pipe')).isFIFO()).toBe(true);
  });

  describe('stays inside the root', () => {
    it('through a symlink already there to an absolute host path: lands under the root', async () => {
      symlinkSync(outside, join(root, 'link'));
      const result = await extractArchive(write('a.tar', tar([{ name: 'link/pwned', content: 'x' }])), root);
      expect(readFileSync(join(root, outside, 'pwned'), 'utf8')).toBe('x');
      expect(result.paths).toEqual([`${outside.slice(1)}/pwned`]);
      outsideUnchanged();
    });

    it('through a symlink the archive itself made earlier', async () => {
      const archive = tar([
        { name: 'link', type: 'symlink', linkname: outside },
        { name: 'link/pwned', content: 'x' },
        { name: 'link/secret.txt', content: 'overwritten' },
      ]);
      await extractArchive(write('a.tar', archive), root);
      expect(readFileSync(join(root, outside, 'secret.txt'), 'utf8')).toBe('overwritten');
      outsideUnchanged();
    });

    it.each([
      [
        'a symlink climbing with ..',
        [
          { name: 'up', type: 'symlink', linkname: '../../../../../..' },
          { name: 'up/x', content: 'x' },
        ],
      ],
      ['a .. name', [{ name: '../x', content: 'x' }]],
      ['a .. in the middle of a name', [{ name: 'a/../../x', content: 'x' }]],
      ['a hard link climbing with ..', [{ name: 'h', type: 'hardlink', linkname: '../outside/secret.txt' }]],
    ] as Array<[string, Member[]]>)('refuses %s', async (_what, members) => {
      await expect(extractArchive(write('a.tar', tar(members)), root)).rejects.toMatchObject({
        code: 'LAYER_UNSAFE_PATH',
      });
      outsideUnchanged();
    });

    it('refuses a pre-existing symlink that climbs out', async () => {
      symlinkSync('../../../../..', join(root, 'up'));
      await expect(
        extractArchive(write('a.tar', tar([{ name: 'up/x', content: 'x' }])), root),
      ).rejects.toMatchObject({ code: 'LAYER_UNSAFE_PATH' });
      outsideUnchanged();
    });

    it('a hard link naming a host file by absolute path or through a symlink finds nothing there', async () => {
      symlinkSync(outside, join(root, 'link'));
      for (const linkname of [join(outside, 'secret.txt'), 'link/secret.txt']) {
        await expect(
          extractArchive(write('a.tar', tar([{ name: 'stolen', type: 'hardlink', linkname }])), root),
        ).rejects.toThrow();
        expect(existsSync(join(root, 'stolen'))).toBe(false);
      }
      outsideUnchanged();
    });

    it('a hard link to an in-root symlink links the symlink, not what it points at', async () => {
      symlinkSync(join(outside, 'secret.txt'), join(root, 'ptr'));
      await extractArchive(
        write('a.tar', tar([{ name: 'stolen', type: 'hardlink', linkname: 'ptr' }])),
        root,
      );
      expect(lstatSync(join(root, 'stolen')).isSymbolicLink()).toBe(true);
      outsideUnchanged();
    });

    it('a parent turned into a symlink later drops the paths under it, its times and xattrs', async () => {
      const archive = tar([
        { name: 'd', type: 'dir', mtime: 1000 },
        // Once d is a link to the host dir, d/secret.txt names the host's file.
        { name: 'd/secret.txt', content: 'x', xattrs: { 'user.kiln': Buffer.from('v') } },
        { name: 'd', type: 'symlink', linkname: outside },
      ]);
      const before = statSync(outside).mtimeMs;
      const result = await extractArchive(write('a.tar', archive), root);
      expect(statSync(outside).mtimeMs).toBe(before);
      const xattrs = execFileSync('python3', [
        '-c',
        'import os,sys; print(os.listxattr(sys.argv[1]))',
        join(outside, 'secret.txt'),
      ]);
      expect(xattrs.toString().trim()).toBe('[]');
      expect(result.paths).toEqual(['d']);
      outsideUnchanged();
    });
  });

  it.each(['gzip', 'bzip2', 'xz'] as const)(
    'a %s tar truncated inside an entry fails clearly',
    async (tool) => {
      // More than one bzip2 block (900 kB), so the start decodes before the cut is found.
      const packed = compress(tool, tar([{ name: 'big', content: randomBytes(1_000_000).toString('hex') }]));
      const cut = write('cut.tar.any', packed.subarray(0, packed.length - 1000));
      expect(await isTarArchive(cut)).toBe(true);
      await expect(extractArchive(cut, root)).rejects.toMatchObject({
        code: expect.stringMatching(/^(ARCHIVE_UNREADABLE|LAYER_INVALID_TAR)$/),
      });
    },
    30_000,
  );

  it('refuses entry types it cannot unpack', async () => {
    const archive = tar([{ name: 'x', content: '' }]);
    archive[156] = 'V'.charCodeAt(0);
    // Fix the checksum for the changed type flag.
    archive.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += archive[i]!;
    archive.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    await expect(extractArchive(write('a.tar', archive), root)).rejects.toMatchObject({
      code: 'LAYER_UNSUPPORTED_ENTRY',
    });
  });
});
