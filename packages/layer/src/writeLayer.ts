import { createHash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { type BlobStore, type Compression, type Digest, ociLayerMediaType } from '@kiln/image';
import { type ChangeSet, comparePaths, type Entry } from '@kiln/snapshot';
import { createBlockSink } from './compressedSink.ts';
import { createGzipPool, type GzipPool } from './gzipPool.ts';
import type { LayerEvent } from './layerEvents.ts';
import { blockSize, contentPadding, encodeTarHeader, type TarHeader } from './tarHeader.ts';

export interface WriteLayerOptions {
  store: BlobStore;
  /** Default gzip. */
  compression?: Compression;
  /** gzip 1–9 (default 6), zstd 1–19 (default 3). */
  level?: number;
  /**
   * gzip blocks compressed at once on the thread pool (default: the pool's, else all cores); 1
   * compresses on the calling thread. Output bytes do not depend on it.
   */
  threads?: number;
  /**
   * The gzip pool, owned by the caller (a build shares one across its layers). Without one, a
   * layer that needs it makes a pool of its own and closes it when written.
   */
  pool?: GzipPool;
  /**
   * Reproducible mode: every mtime becomes this many seconds since the epoch (pass
   * `SOURCE_DATE_EPOCH`, or 0), so the same tree gives the same digest on any machine.
   */
  sourceDateEpoch?: number;
  onEvent?: (event: LayerEvent) => void;
  /** Stops the write at the next 1 MiB block (a build interrupted by a signal). */
  signal?: AbortSignal;
}

export interface LayerResult {
  /** sha256 of the blob as stored (compressed). */
  digest: Digest;
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  /** Bytes of the blob. */
  size: number;
  mediaType: string;
  /** Tar entries written (whiteouts included). */
  entries: number;
}

/**
 * Tar is cut into fixed-size blocks and each block is one gzip member, so the blob is the
 * same whatever the number of threads (reproducible) and blocks compress in parallel.
 */
const tarBlockBytes = 1024 * 1024;

type Item =
  | { kind: 'entry'; path: string; entry: Entry }
  | { kind: 'whiteout'; path: string }
  | { kind: 'opaque'; path: string; dir: string };

/**
 * Writes a layer from a change set: a sorted tar (parents first, missing ancestors from the root,
 * whiteouts and opaque markers, hardlinks by (dev, ino)), hashed and compressed in one streaming
 * pass into the blob store. File content is read from `root/<path>`.
 */
export async function writeLayer(
  changeSet: ChangeSet,
  root: string,
  options: WriteLayerOptions,
): Promise<LayerResult> {
  const compression = options.compression ?? 'gzip';
  const level = options.level ?? (compression === 'zstd' ? 3 : 6);
  const epoch = options.sourceDateEpoch;
  const items = orderItems(changeSet);
  const threads = options.threads ?? options.pool?.threads ?? availableParallelism();
  // Made by the first block that needs the pool (inside the `try` below), closed by its `finally`.
  let ownPool: GzipPool | undefined;
  const writer = await options.store.createWriter();
  const sink = createBlockSink(writer, {
    compression,
    level,
    threads,
    pool: () => {
      if (options.pool !== undefined) return options.pool;
      ownPool ??= createGzipPool({ threads });
      return ownPool;
    },
    // Whole blocks back to the spare list (the last one of a layer was pushed as a shorter view).
    release: (done) => spare.push(new Uint8Array(done.buffer, done.byteOffset, tarBlockBytes)),
  });
  const diffHash = createHash('sha256');
  // Blocks gzip has finished reading; at most the blocks in flight (two per thread and one held).
  const spare: Uint8Array[] = [];
  let block: Uint8Array = Buffer.allocUnsafeSlow(tarBlockBytes);
  let used = 0;
  let entries = 0;

  async function flush(): Promise<void> {
    options.signal?.throwIfAborted();
    if (used === 0) return;
    const full = block.subarray(0, used);
    diffHash.update(full);
    block = spare.pop() ?? Buffer.allocUnsafeSlow(tarBlockBytes);
    used = 0;
    await sink.push(full);
  }
  async function put(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      if (used === tarBlockBytes) await flush();
      const n = Math.min(bytes.length - offset, tarBlockBytes - used);
      block.set(bytes.subarray(offset, offset + n), used);
      used += n;
      offset += n;
    }
  }
  async function zeros(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (used === tarBlockBytes) await flush();
      const k = Math.min(left, tarBlockBytes - used);
      block.fill(0, used, used + k);
      used += k;
      left -= k;
    }
  }
  // Sync reads straight into the block buffer: far cheaper per small file than async I/O,
  // and the event loop still gets a turn at every block handed to the compressor.
  async function content(path: string, size: number): Promise<void> {
    // No following a symlink that replaced the file since the snapshot: it could point out of the root.
    let fd: number;
    try {
      fd = openSync(join(root, path), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ELOOP' && code !== 'ENOENT') throw error;
      throw new KilnError('LAYER_SOURCE_CHANGED', `${path} is no longer the file the snapshot saw`, {
        cause: error,
        hint: 'something is still changing the tree; snapshot after it has finished',
      });
    }
    try {
      let left = size;
      while (left > 0) {
        if (used === tarBlockBytes) await flush();
        const n = readSync(fd, block, used, Math.min(left, tarBlockBytes - used), null);
        if (n === 0) {
          throw new KilnError('LAYER_SOURCE_CHANGED', `${path} shrank while being written to the layer`, {
            hint: 'something is still writing to the tree; snapshot after it has finished',
          });
        }
        used += n;
        left -= n;
      }
    } finally {
      closeSync(fd);
    }
    await zeros(contentPadding(size));
  }

  const emittedDirs = new Set<string>();
  const firstOfInode = new Map<string, string>();
  const mtimeOf = (entry: Entry) => (epoch !== undefined ? epoch : Number(entry.mtimeNs / 1_000_000_000n));

  async function ensureParents(path: string): Promise<void> {
    // Ancestors are emitted top-down, so an emitted parent means every ancestor is.
    const last = path.lastIndexOf('/');
    if (last === -1 || emittedDirs.has(path.slice(0, last))) return;
    let slash = path.indexOf('/');
    while (slash !== -1) {
      const dir = path.slice(0, slash);
      if (!emittedDirs.has(dir)) {
        const st = lstatSync(join(root, dir), { bigint: true });
        emittedDirs.add(dir);
        await put(
          encodeTarHeader({
            name: dir,
            type: 'dir',
            mode: Number(st.mode) & 0o7777,
            uid: Number(st.uid),
            gid: Number(st.gid),
            size: 0,
            mtime: epoch ?? Number(st.mtimeNs / 1_000_000_000n),
          }),
        );
        entries++;
      }
      slash = path.indexOf('/', slash + 1);
    }
  }

  try {
    for (const item of items) {
      await ensureParents(item.path);
      entries++;
      if (item.kind === 'whiteout' || item.kind === 'opaque') {
        await put(
          encodeTarHeader({
            name: item.path,
            type: 'file',
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: epoch ?? 0,
          }),
        );
        continue;
      }
      const { entry } = item;
      const header: TarHeader = {
        name: entry.path,
        type: entry.type,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        size: 0,
        mtime: mtimeOf(entry),
      };
      if (entry.xattrs !== undefined && Object.keys(entry.xattrs).length > 0) header.xattrs = entry.xattrs;
      if (entry.type === 'dir') emittedDirs.add(entry.path);
      if (entry.type === 'symlink') header.linkname = entry.linkTarget ?? '';
      if (entry.type === 'char' || entry.type === 'block') {
        const rdev = entry.rdev ?? 0;
        header.devmajor = deviceMajor(rdev);
        header.devminor = deviceMinor(rdev);
      }
      if (entry.type === 'file') {
        const key = entry.nlink > 1 ? `${entry.dev}:${entry.ino}` : undefined;
        const first = key === undefined ? undefined : firstOfInode.get(key);
        if (first !== undefined) {
          header.type = 'hardlink';
          header.linkname = first;
          await put(encodeTarHeader(header));
          continue;
        }
        if (key !== undefined) firstOfInode.set(key, entry.path);
        header.size = entry.size;
        await put(encodeTarHeader(header));
        await content(entry.path, entry.size);
        continue;
      }
      await put(encodeTarHeader(header));
    }
    await zeros(2 * blockSize);
    await flush();
    await sink.finish();
    const diffId: Digest = `sha256:${diffHash.digest('hex')}`;
    const { digest, size } = await writer.commit();
    const result: LayerResult = {
      digest,
      diffId: compression === 'none' ? digest : diffId,
      size,
      mediaType: ociLayerMediaType(compression),
      entries,
    };
    options.onEvent?.({ type: 'layer-written', ...result, compression });
    return result;
  } catch (error) {
    await sink.finish().catch(() => {});
    await writer.abort();
    throw error;
  } finally {
    await ownPool?.close();
  }
}

/** Change set → tar items in byte order of their archive paths (parents sort before children). */
function orderItems(changeSet: ChangeSet): Item[] {
  const items: Item[] = [];
  for (const change of changeSet.changes) {
    if (change.kind === 'deleted') {
      const slash = change.path.lastIndexOf('/');
      const whiteout = `${change.path.slice(0, slash + 1)}.wh.${change.path.slice(slash + 1)}`;
      items.push({ kind: 'whiteout', path: whiteout });
    } else if (change.entry !== undefined) {
      items.push({ kind: 'entry', path: change.path, entry: change.entry });
    } else {
      throw new KilnError('INVALID_CHANGE_SET', `change "${change.path}" (${change.kind}) carries no entry`);
    }
  }
  for (const dir of changeSet.opaqueDirs) {
    items.push({ kind: 'opaque', path: `${dir}/.wh..wh..opq`, dir });
  }
  items.sort((a, b) => comparePaths(a.path, b.path));
  return items;
}

// Linux's encoding of dev_t (glibc's gnu_dev_major/minor).
function deviceMajor(rdev: number): number {
  const dev = BigInt(rdev);
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
}

function deviceMinor(rdev: number): number {
  const dev = BigInt(rdev);
  return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn & 0xffffffffn));
}
