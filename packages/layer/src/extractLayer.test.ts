import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore, readOciLayout } from '@kiln/image';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeSetFromTree } from './changeSetFromTree.ts';
import { extractLayer } from './extractLayer.ts';
import type { LayerEvent } from './layerEvents.ts';
import { contentPadding, encodeTarHeader } from './tarHeader.ts';
import { listTree, makeTree } from './testTrees.ts';
import { writeLayer } from './writeLayer.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-extract-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Builds a tar with Python's tarfile (a writer that is not Kiln's), from a list of members:
 * [name, type, extra] where type is file|dir|symlink|link|chr and extra is content or link target.
 */
function pythonTar(file: string, members: Array<[string, string, string?]>, size?: number): void {
  const script = `
import io, json, sys, tarfile
members = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tar:
    for name, kind, extra in members:
        info = tarfile.TarInfo(name)
        info.mtime = 1700000000
        data = None
        if kind == 'file':
            data = (extra or '').encode()
            info.size = len(data)
        elif kind == 'dir':
            info.type = tarfile.DIRTYPE; info.mode = 0o755
        elif kind == 'symlink':
            info.type = tarfile.SYMTYPE; info.linkname = extra
        elif kind == 'link':
            info.type = tarfile.LNKTYPE; info.linkname = extra
        elif kind == 'chr':
            info.type = tarfile.CHRTYPE; info.devmajor = 1; info.devminor = 3
        tar.addfile(info, io.BytesIO(data) if data is not None else None)
`;
  execFileSync('python3', [
    '-c',
    script,
    file,
    JSON.stringify(members.map(([n, k, e]) => [n, k, e ?? null])),
  ]);
  if (size !== undefined) {
    // Patch the first header's size field (and checksum) to a huge value with no content behind it.
    const buf = readFileSync(file);
    buf.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    buf.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += buf[i]!;
    buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    writeFileSync(file, buf);
  }
}

function snapshotOf(path: string): string {
  return execFileSync('find', [path, '-printf', '%p %y %s\\n'], { encoding: 'utf8' });
}

describe('extractLayer', () => {
  it('applies a GNU tar layer: content, modes, owners, links, devices, mtimes', async () => {
    const src = join(dir, 'src');
    makeTree(src);
    const layer = join(dir, 'layer.tar.gz');
    execFileSync('sh', ['-c', `tar -C "${src}" --numeric-owner -cf - . | gzip -1 > "${layer}"`]);
    const out = join(dir, 'out');
    const result = await extractLayer(layer, out);
    expect(listTree(out)).toEqual(listTree(src));
    expect(result.bytes).toBe(3 * 1024 * 1024 + 17 + 6 + 6 + 4);
    expect(statSync(join(out, 'usr/bin/tool')).ino).toBe(statSync(join(out, 'usr/bin/tool-alias')).ino);
  });

  it('restores xattrs (security.capability after the chown that would clear it) from a GNU tar layer', async () => {
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'ping'), 'binary');
    const cap = '0100000200200000000000000000000000000000';
    const py = (code: string, ...args: string[]) =>
      execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8' });
    py(
      'import os,sys; os.setxattr(sys.argv[1], "security.capability", bytes.fromhex(sys.argv[2]))',
      join(src, 'ping'),
      cap,
    );
    execFileSync('chown', ['1000:1000', join(src, 'ping')]);
    py(
      'import os,sys; os.setxattr(sys.argv[1], "security.capability", bytes.fromhex(sys.argv[2]))',
      join(src, 'ping'),
      cap,
    );
    const layer = join(dir, 'layer.tar');
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', src, '-cf', layer, 'ping']);
    const out = join(dir, 'out');
    const events: LayerEvent[] = [];
    await extractLayer(layer, out, { onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.type === 'extract-xattr-skipped')).toEqual([]);
    expect(statSync(join(out, 'ping')).uid).toBe(1000);
    const read = py(
      'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], "security.capability").hex())',
      join(out, 'ping'),
    );
    expect(read).toBe(cap);
  });

  it("round-trips Kiln's own layers in every compression, reading the multi-member gzip", async () => {
    const src = join(dir, 'src');
    makeTree(src);
    const store = new BlobStore(join(dir, 'store'));
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const layer = await writeLayer(changeSetFromTree(src), src, { store, compression, threads: 2 });
      const out = join(dir, `out-${compression}`);
      await extractLayer(await store.open(layer.digest), out, { mediaType: layer.mediaType });
      expect(listTree(out)).toEqual(listTree(src));
    }
  });

  it('applies whiteouts and opaque markers of layers umoci wrote, to the tree umoci unpacks', async () => {
    const layout = join(dir, 'layout');
    const bundle = join(dir, 'bundle');
    const run = (...args: string[]) => execFileSync('umoci', args, { stdio: 'pipe' });
    run('init', '--layout', layout);
    run('new', '--image', `${layout}:base`);
    run('unpack', '--image', `${layout}:base`, bundle);
    const rootfs = join(bundle, 'rootfs');
    makeTree(rootfs);
    mkdirSync(join(rootfs, 'opaque/old'), { recursive: true });
    writeFileSync(join(rootfs, 'opaque/old/f'), 'old');
    run('repack', '--refresh-bundle', '--image', `${layout}:v1`, bundle);
    rmSync(join(rootfs, 'etc/secret'));
    rmSync(join(rootfs, 'usr'), { recursive: true });
    rmSync(join(rootfs, 'opaque'), { recursive: true });
    mkdirSync(join(rootfs, 'opaque'));
    writeFileSync(join(rootfs, 'opaque/new'), 'new');
    run('repack', '--image', `${layout}:v2`, bundle);

    const image = await readOciLayout(layout, 'v2');
    expect(image.layers.length).toBeGreaterThanOrEqual(2);
    const out = join(dir, 'out');
    for (const layer of image.layers) {
      await extractLayer(image.store.path(layer.digest), out, { mediaType: layer.mediaType });
    }
    // umoci's own unpack is the reference (its layers round sub-second mtimes, so the live tree is not).
    const unpacked = join(dir, 'unpacked');
    run('unpack', '--image', `${layout}:v2`, unpacked);
    expect(listTree(out)).toEqual(listTree(join(unpacked, 'rootfs')));
    expect(existsSync(join(out, 'usr'))).toBe(false);
    expect(readdirSync(join(out, 'opaque'))).toEqual(['new']);
  });

  it('keeps ignored paths through whiteouts and opaque markers', async () => {
    const out = join(dir, 'out');
    mkdirSync(join(out, 'kiln'), { recursive: true });
    writeFileSync(join(out, 'kiln/executor'), 'x');
    writeFileSync(join(out, 'old'), 'x');
    const layer = join(dir, 'l.tar');
    pythonTar(layer, [
      ['.wh.kiln', 'file'],
      ['.wh..wh..opq', 'file'],
      ['new', 'file', 'n'],
    ]);
    await extractLayer(layer, out, { ignore: (path) => path === 'kiln' || path.startsWith('kiln/') });
    expect(readdirSync(out).sort()).toEqual(['kiln', 'new']);
    expect(readFileSync(join(out, 'kiln/executor'), 'utf8')).toBe('x');
  });

  it('skips ignored paths and reports them', async () => {
    const layer = join(dir, 'l.tar');
    pythonTar(layer, [
      ['kiln', 'dir'],
      ['kiln/work', 'file', 'x'],
      ['etc', 'dir'],
      ['etc/os-release', 'file', 'debian'],
    ]);
    const events: LayerEvent[] = [];
    const out = join(dir, 'out');
    await extractLayer(layer, out, {
      ignore: (path) => path === 'kiln' || path.startsWith('kiln/'),
      onEvent: (e) => events.push(e),
    });
    expect(readdirSync(out)).toEqual(['etc']);
    expect(
      events.filter((e) => e.type === 'extract-ignored').map((e) => (e as { path: string }).path),
    ).toEqual(['kiln', 'kiln/work']);
  });

  it('writes only what `select` accepts, asking whiteouts about the path they remove', async () => {
    const out = join(dir, 'out');
    const lower = join(dir, 'lower.tar');
    pythonTar(lower, [
      ['bin', 'dir'],
      ['bin/sh', 'file', 'sh'],
      ['src', 'dir'],
      ['src/a', 'file', 'a'],
      ['src/gone', 'file', 'g'],
    ]);
    const upper = join(dir, 'upper.tar');
    pythonTar(upper, [
      ['src', 'dir'],
      ['src/.wh.gone', 'file'],
      ['bin/.wh.sh', 'file'],
    ]);
    const asked: string[] = [];
    const select = (path: string) => {
      asked.push(path);
      return path === 'src' || path.startsWith('src/');
    };
    await extractLayer(lower, out, { select });
    writeFileSync(join(out, 'bin-sh-kept'), '');
    await extractLayer(upper, out, { select });
    expect(readdirSync(out).sort()).toEqual(['bin-sh-kept', 'src']);
    expect(readdirSync(join(out, 'src'))).toEqual(['a']);
    expect(asked).toEqual(['bin', 'bin/sh', 'src', 'src/a', 'src/gone', 'src', 'src/gone', 'bin/sh']);
  });

  it('follows symlinked directories inside the root as a chroot would', async () => {
    const layer = join(dir, 'l.tar');
    pythonTar(layer, [
      ['usr', 'dir'],
      ['usr/lib', 'dir'],
      ['lib', 'symlink', 'usr/lib'],
      ['abs', 'symlink', '/usr'],
      ['lib/a.so', 'file', 'a'],
      ['abs/lib/b.so', 'file', 'b'],
    ]);
    const out = join(dir, 'out');
    await extractLayer(layer, out);
    expect(readdirSync(join(out, 'usr/lib')).sort()).toEqual(['a.so', 'b.so']);
  });

  const hostile: Array<[string, Array<[string, string, string?]>, string, number?]> = [
    ['path traversal', [['../evil', 'file', 'x']], 'LAYER_UNSAFE_PATH'],
    ['deep traversal', [['a/../../evil', 'file', 'x']], 'LAYER_UNSAFE_PATH'],
    ['absolute path', [['/OUTSIDE/evil', 'file', 'x']], 'LAYER_UNSAFE_PATH'],
    [
      'symlink then write through it',
      [
        ['link', 'symlink', '../outside'],
        ['link/evil', 'file', 'x'],
      ],
      'LAYER_UNSAFE_PATH',
    ],
    [
      'symlink chain out of the root',
      [
        ['a', 'dir'],
        ['a/up', 'symlink', '..'],
        ['a/esc', 'symlink', 'up/..'],
        ['a/esc/outside/evil', 'file', 'x'],
      ],
      'LAYER_UNSAFE_PATH',
    ],
    ['hardlink to outside', [['hl', 'link', '../outside/secret']], 'LAYER_UNSAFE_PATH'],
    [
      'hardlink through a symlink to outside',
      [
        ['l', 'symlink', '../outside'],
        ['hl', 'link', 'l/secret'],
      ],
      'LAYER_UNSAFE_PATH',
    ],
    ['device node escaping', [['../null', 'chr']], 'LAYER_UNSAFE_PATH'],
    ['whiteout of the parent', [['.wh...', 'file']], 'LAYER_UNSAFE_PATH'],
    ['huge header size', [['big', 'file', 'x']], 'LAYER_INVALID_TAR', 0o77777777777],
  ];

  for (const [name, members, code, size] of hostile) {
    it(`refuses a hostile layer (${name}) and touches nothing outside the root`, async () => {
      const outside = join(dir, 'outside');
      mkdirSync(outside);
      writeFileSync(join(outside, 'secret'), 'keep');
      const layer = join(dir, 'hostile.tar');
      pythonTar(
        layer,
        members.map(([n, k, e]) => [n.replace('/OUTSIDE', outside), k, e]),
        size,
      );
      const root = join(dir, 'root');
      mkdirSync(root);
      const before = snapshotOf(dir);
      await expect(extractLayer(layer, root)).rejects.toMatchObject({ code });
      expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('keep');
      expect(existsSync(join(dir, 'evil'))).toBe(false);
      expect(existsSync(join(outside, 'evil'))).toBe(false);
      // Nothing outside the root changed (the root itself may hold entries written before the refusal).
      const outsideRoot = (listing: string) =>
        listing
          .split('\n')
          .filter((l) => !l.startsWith(`${root}/`))
          .join('\n');
      expect(outsideRoot(snapshotOf(dir))).toBe(outsideRoot(before));
    });
  }

  it('creates device nodes inside the root as root', async () => {
    const layer = join(dir, 'dev.tar');
    pythonTar(layer, [
      ['dev', 'dir'],
      ['dev/null', 'chr'],
    ]);
    const out = join(dir, 'out');
    await extractLayer(layer, out);
    expect(statSync(join(out, 'dev/null')).isCharacterDevice()).toBe(true);
    expect(statSync(join(out, 'dev/null')).rdev).toBe(statSync('/dev/null').rdev);
  });

  it('sets no xattr or directory time through a parent a later entry turned into a symlink', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'keep');
    const header = (name: string, type: 'dir' | 'file' | 'symlink', extra: object = {}) =>
      encodeTarHeader({ name, type, mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1000, ...extra });
    // d/secret carries an xattr; then d becomes a link to the host dir, where d/secret is the host's file.
    const layer = Buffer.concat([
      header('d', 'dir'),
      header('d/secret', 'file', { size: 1, xattrs: { 'user.kiln': Buffer.from('v') } }),
      Buffer.from('x'),
      Buffer.alloc(contentPadding(1)),
      header('d', 'symlink', { linkname: outside }),
      Buffer.alloc(1024),
    ]);
    writeFileSync(join(dir, 'layer.tar'), layer);
    const mtime = statSync(outside).mtimeMs;
    await extractLayer(join(dir, 'layer.tar'), join(dir, 'root'));
    const xattrs = execFileSync('python3', [
      '-c',
      'import os,sys; print(os.listxattr(sys.argv[1]))',
      join(outside, 'secret'),
    ]);
    expect(xattrs.toString().trim()).toBe('[]');
    expect(statSync(outside).mtimeMs).toBe(mtime);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('keep');
  });
});
