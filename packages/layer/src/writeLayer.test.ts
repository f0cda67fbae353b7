import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BlobStore, type ImageConfig, MediaType, sha256Digest, writeOciLayout } from '@kiln/image';
import type { ChangeSet } from '@kiln/snapshot';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { changeSetFromTree, entryFromLstat } from './changeSetFromTree.ts';
import { createGzipPool, type GzipPool } from './gzipPool.ts';
import { listTree, longDir, makeTree } from './testTrees.ts';
import { writeLayer } from './writeLayer.ts';

let dir: string;
let store: BlobStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-writelayer-'));
  store = new BlobStore(join(dir, 'store'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function tarList(file: string, args: string[] = []): string[] {
  return execFileSync('tar', ['-tvf', file, '--numeric-owner', '--full-time', ...args], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '');
}

describe('writeLayer', () => {
  it('writes every entry kind so GNU tar lists it, with diffID, digest and size from one pass', async () => {
    const root = join(dir, 'root');
    makeTree(root);
    const layer = await writeLayer(changeSetFromTree(root), root, { store, level: 1, threads: 2 });
    const blob = readFileSync(store.path(layer.digest));
    expect(layer.digest).toBe(sha256Digest(blob));
    expect(layer.size).toBe(blob.length);
    expect(layer.diffId).toBe(sha256Digest(gunzipSync(blob)));
    expect(layer.mediaType).toBe(MediaType.ociLayerGzip);
    // More than one gzip member (3 MiB file, 1 MiB blocks): GNU tar/gzip must still read it all.
    const listing = tarList(store.path(layer.digest));
    const line = (name: string) => listing.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} `));
    expect(line('etc/secret')).toMatch(/^-rw------- 3000000\/3000001 +6 2023-11-14 22:13:20 etc\/secret$/);
    expect(line('usr/bin/tool')).toMatch(/^-rwsr-xr-x 0\/0 +3145745 /);
    expect(line('usr/bin/tool-alias')).toMatch(/^hrwsr-xr-x .* usr\/bin\/tool-alias link to usr\/bin\/tool$/);
    expect(line('etc/tool-link')).toMatch(/^lrwxrwxrwx .* etc\/tool-link -> \.\.\/usr\/bin\/tool$/);
    expect(line('etc/long-link')).toContain(`-> /${'x'.repeat(150)}`);
    expect(line('dev/null')).toMatch(/^crw-rw-rw- 0\/0 +1,3 /);
    expect(line('dev/loop9')).toMatch(/^brw-r--r-- 0\/0 +7,9 /);
    expect(line('dev/fifo')).toMatch(/^prw-r--r-- /);
    expect(line(`${longDir}/file`)).toBeDefined();
    // Parents first, in byte order.
    const names = listing.map((l) => l.replace(/^.*\d\d:\d\d:\d\d /, '').replace(/ (->|link to) .*$/, ''));
    expect(names.slice(0, 3)).toEqual([`${longDir.split('/')[0]}/`, `${longDir}/`, `${longDir}/file`]);
    expect(names).toEqual([...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));

    // And GNU tar extracts it to the same tree.
    const out = join(dir, 'out');
    execFileSync('mkdir', [out]);
    execFileSync('tar', ['-xpf', store.path(layer.digest), '-C', out, '--numeric-owner']);
    expect(listTree(out)).toEqual(listTree(root));
  });

  it('emits whiteouts, opaque markers and missing ancestors from the root', async () => {
    const root = join(dir, 'root');
    makeTree(root);
    const entry = (path: string) => entryFromLstat(root, path)!;
    const changeSet: ChangeSet = {
      changes: [
        { path: 'etc/gone', kind: 'deleted' },
        { path: 'etc/hello', kind: 'modified', entry: entry('etc/hello') },
        { path: 'usr/bin/tool', kind: 'added', entry: entry('usr/bin/tool') },
        { path: 'var', kind: 'deleted' },
      ],
      opaqueDirs: ['usr'],
    };
    const layer = await writeLayer(changeSet, root, { store, compression: 'none', sourceDateEpoch: 0 });
    expect(layer.diffId).toBe(layer.digest);
    const names = tarList(store.path(layer.digest)).map((l) => l.split(' ').pop());
    expect(names).toEqual(
      [
        'etc/',
        'etc/.wh.gone',
        'etc/hello',
        'usr/',
        'usr/.wh..wh..opq',
        'usr/bin/',
        'usr/bin/tool',
        '.wh.var',
      ].sort((a, b) => Buffer.compare(Buffer.from(a!), Buffer.from(b!))),
    );
  });

  it('is reproducible: same digest for the same tree at other times, paths and thread counts', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    makeTree(a, 1_600_000_000);
    makeTree(b, 1_700_000_000);
    const one = await writeLayer(changeSetFromTree(a), a, { store, sourceDateEpoch: 0, threads: 1 });
    const two = await writeLayer(changeSetFromTree(b), b, { store, sourceDateEpoch: 0, threads: 2 });
    expect(two.digest).toBe(one.digest);
    expect(two.diffId).toBe(one.diffId);
    const listing = tarList(store.path(one.digest));
    expect(listing.every((l) => l.includes(' 1970-01-01 00:00:00 '))).toBe(true);
    const other = await writeLayer(changeSetFromTree(a), a, { store, sourceDateEpoch: 1 });
    expect(other.digest).not.toBe(one.digest);
  });

  it('compresses a one-block layer inline and starts no worker; a larger one goes to the pool', async () => {
    const small = join(dir, 'small');
    mkdirSync(join(small, 'app'), { recursive: true });
    writeFileSync(join(small, 'app/config.txt'), 'key=value\n');
    let compressed = 0;
    const real = createGzipPool({ threads: 2 });
    const pool: GzipPool = {
      threads: 2,
      get closed() {
        return real.closed;
      },
      compress: (data, level) => {
        compressed++;
        return real.compress(data, level);
      },
      close: () => real.close(),
    };
    try {
      const inline = await writeLayer(changeSetFromTree(small), small, {
        store,
        sourceDateEpoch: 0,
        threads: 1,
      });
      const one = await writeLayer(changeSetFromTree(small), small, { store, sourceDateEpoch: 0, pool });
      expect(compressed).toBe(0);
      expect(one.digest).toBe(inline.digest);
      const big = join(dir, 'big');
      makeTree(big, 1_600_000_000);
      writeFileSync(join(big, 'random.bin'), randomBytes(3 * 1024 * 1024));
      const pooled = await writeLayer(changeSetFromTree(big), big, { store, sourceDateEpoch: 0, pool });
      const single = await writeLayer(changeSetFromTree(big), big, { store, sourceDateEpoch: 0, threads: 1 });
      expect(compressed).toBeGreaterThanOrEqual(4);
      expect(pooled.digest).toBe(single.digest);
    } finally {
      await pool.close();
    }
  });

  it('reuses tar blocks once gzip has read them: allocations stay at the blocks in flight, bytes unchanged', async () => {
    const big = join(dir, 'big');
    mkdirSync(big);
    for (let i = 0; i < 12; i++) writeFileSync(join(big, `part-${i}.bin`), randomBytes(1024 * 1024));
    const alloc = vi.spyOn(Buffer, 'allocUnsafeSlow');
    const pool = createGzipPool({ threads: 2 });
    try {
      const pooled = await writeLayer(changeSetFromTree(big), big, { store, sourceDateEpoch: 0, pool });
      const blocks = alloc.mock.calls.filter(([size]) => size === 1024 * 1024).length;
      alloc.mockClear();
      const inline = await writeLayer(changeSetFromTree(big), big, { store, sourceDateEpoch: 0, threads: 1 });
      const inlineBlocks = alloc.mock.calls.filter(([size]) => size === 1024 * 1024).length;
      // 13 blocks of tar: two in flight per thread, one held back, one being filled.
      expect(blocks).toBeLessThanOrEqual(2 * 2 + 2);
      expect(inlineBlocks).toBeLessThanOrEqual(2);
      // A block reused while still being compressed would show as a blob that is not the hashed tar.
      const tar = gunzipSync(readFileSync(store.path(pooled.digest)));
      expect(`sha256:${createHash('sha256').update(tar).digest('hex')}`).toBe(pooled.diffId);
      expect(pooled.digest).toBe(inline.digest);
    } finally {
      alloc.mockRestore();
      await pool.close();
    }
  });

  it('carries xattrs such as security.capability as PAX records that GNU tar restores', async () => {
    const root = join(dir, 'root');
    makeTree(root);
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    const changeSet = changeSetFromTree(root, ['usr']);
    const tool = changeSet.changes.find((c) => c.path === 'usr/bin/tool')!;
    tool.entry!.xattrs = { 'security.capability': cap, 'user.note': Buffer.from([0xff, 0x00, 0x80]) };
    const layer = await writeLayer(changeSet, root, { store, compression: 'none' });
    const out = join(dir, 'out');
    execFileSync('mkdir', [out]);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-xpf', store.path(layer.digest), '-C', out]);
    const read = (name: string) =>
      execFileSync(
        'python3',
        [
          '-c',
          `import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).hex())`,
          join(out, 'usr/bin/tool'),
          name,
        ],
        {
          encoding: 'utf8',
        },
      );
    expect(read('security.capability')).toBe(cap.toString('hex'));
    expect(read('user.note')).toBe('ff0080');
  });

  it('refuses to follow a symlink that replaced a file after the snapshot', async () => {
    const root = join(dir, 'root');
    makeTree(root);
    const changeSet = changeSetFromTree(root, ['etc']);
    rmSync(join(root, 'etc/hello'));
    symlinkSync('/etc/passwd', join(root, 'etc/hello'));
    await expect(writeLayer(changeSet, root, { store })).rejects.toMatchObject({
      code: 'LAYER_SOURCE_CHANGED',
    });
    expect(readdirSync(join(dir, 'store', 'blobs', 'sha256'))).toEqual([]);
  });

  it('compresses with zstd when asked', async () => {
    const root = join(dir, 'root');
    makeTree(root);
    const layer = await writeLayer(changeSetFromTree(root), root, { store, compression: 'zstd' });
    expect(layer.mediaType).toBe(MediaType.ociLayerZstd);
    const tar = execFileSync('zstd', ['-dc', store.path(layer.digest)], { maxBuffer: 64 * 1024 * 1024 });
    expect(sha256Digest(tar)).toBe(layer.diffId);
    writeFileSync(join(dir, 'layer.tar'), tar);
    expect(tarList(join(dir, 'layer.tar')).some((l) => l.endsWith('etc/hello'))).toBe(true);
  });

  it('writes images that umoci unpacks to the source tree and skopeo copies', async () => {
    const root = join(dir, 'root');
    makeTree(root);
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    execFileSync('python3', [
      '-c',
      'import os,sys; os.setxattr(sys.argv[1], "security.capability", bytes.fromhex(sys.argv[2]))',
      join(root, 'etc/hello'),
      cap.toString('hex'),
    ]);
    const changeSet = changeSetFromTree(root);
    changeSet.changes.find((c) => c.path === 'etc/hello')!.entry!.xattrs = { 'security.capability': cap };
    const layer = await writeLayer(changeSet, root, { store, level: 6 });
    const config: ImageConfig = {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    };
    const configBlob = await store.writeJson(config);
    const manifest = {
      schemaVersion: 2 as const,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    };
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [{ manifest, config, tag: 'latest' }], store);

    const bundle = join(dir, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, bundle], { stdio: 'pipe' });
    expect(listTree(join(bundle, 'rootfs'))).toEqual(listTree(root));
    const tool = join(bundle, 'rootfs', 'usr/bin/tool');
    expect(readFileSync(tool).equals(readFileSync(join(root, 'usr/bin/tool')))).toBe(true);
    const xattr = execFileSync(
      'python3',
      [
        '-c',
        'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], "security.capability").hex())',
        join(bundle, 'rootfs', 'etc/hello'),
      ],
      { encoding: 'utf8' },
    );
    expect(xattr).toBe(cap.toString('hex'));

    const copy = join(dir, 'copy');
    execFileSync('skopeo', ['copy', `oci:${layout}:latest`, `dir:${copy}`], { stdio: 'pipe' });
    expect(
      readFileSync(join(copy, layer.digest.slice(7))).equals(readFileSync(store.path(layer.digest))),
    ).toBe(true);
  });
});
