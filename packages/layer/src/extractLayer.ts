import {
  createReadStream,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { KilnError } from '@kiln/errors';
import { type Compression, layerCompression } from '@kiln/image';
import { DeferredMetadata } from './deferredMetadata.ts';
import type { LayerEvent } from './layerEvents.ts';
import { archivePathComponents, RootResolver } from './rootResolver.ts';
import { stopOnAbort } from './stopOnAbort.ts';
import { TarReader, type TarReadHeader } from './tarReader.ts';
import {
  makeSpecialFile,
  openNewFile,
  resolveLinkTarget,
  setMetadata,
  setOwnerAndMode,
  setSymlinkMetadata,
  writeFileContent,
} from './writeEntry.ts';

export interface ExtractLayerOptions {
  /** The layer's media type; its compression is used when `compression` is not given. */
  mediaType?: string;
  /** Default: detected from the first bytes. */
  compression?: Compression;
  /** Archive paths (relative, no leading `/`) to skip, e.g. Kiln's own dirs in container mode. */
  ignore?: (path: string) => boolean;
  /**
   * Only the entries it accepts are written (quietly, unlike `ignore`): a reader that needs a few
   * paths of a layer. Whiteouts are asked about the path they remove. It may throw to stop.
   */
  select?: (path: string, header: TarReadHeader) => boolean;
  /** Set owners from the layer; default when running as root. */
  preserveOwnership?: boolean;
  onEvent?: (event: LayerEvent) => void;
  /** Stops the extraction between chunks of the layer (a build interrupted by a signal). */
  signal?: AbortSignal;
}

export interface ExtractResult {
  entries: number;
  /** Content bytes written. */
  bytes: number;
}

const opaqueMarker = '.wh..wh..opq';
const whiteoutPrefix = '.wh.';

/**
 * Applies a layer (gzip, zstd or plain tar) to `root`: whiteouts and opaque markers remove what
 * lower layers left, links and devices are recreated, owners, modes and mtimes kept. Every path
 * resolves inside the root as a chroot would see it; an entry that would escape is refused.
 */
export async function extractLayer(
  source: string | Readable | AsyncIterable<Uint8Array>,
  root: string,
  options: ExtractLayerOptions = {},
): Promise<ExtractResult> {
  options.signal?.throwIfAborted();
  const raw: AsyncIterable<Uint8Array> =
    typeof source === 'string' ? createReadStream(source, { highWaterMark: 1024 * 1024 }) : source;
  const input = options.signal ? stopOnAbort(raw, options.signal) : raw;
  const { stream, done, close } = await decompress(
    input,
    options.compression ?? (options.mediaType ? layerCompression(options.mediaType) : undefined),
  );
  mkdirSync(root, { recursive: true });
  const applier = new LayerApplier(realpathSync(root), options);
  const reader = new TarReader(stream);
  try {
    for (let header = await reader.next(); header !== null; header = await reader.next()) {
      await applier.apply(header, reader);
    }
    applier.finish();
    // Reading to the end lets the source close its file and the decompressor check its trailer.
    await reader.drain();
    await done;
  } catch (error) {
    await close();
    await done.catch(() => {});
    throw error;
  }
  const result = { entries: applier.entries, bytes: reader.contentBytes };
  options.onEvent?.({ type: 'layer-extracted', ...result });
  return result;
}

async function decompress(
  input: AsyncIterable<Uint8Array>,
  compression: Compression | undefined,
): Promise<{ stream: AsyncIterable<Uint8Array>; done: Promise<void>; close: () => Promise<void> }> {
  const iterator = input[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  const kind = compression ?? sniffCompression(head);
  async function* replay(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) yield r.value;
  }
  const closeInput = async () => {
    await iterator.return?.();
  };
  if (kind === 'none') return { stream: replay(), done: Promise.resolve(), close: closeInput };
  const inflate =
    kind === 'gzip'
      ? createGunzip({ chunkSize: 256 * 1024 })
      : createZstdDecompress({ chunkSize: 256 * 1024 });
  const done = pipeline(Readable.from(replay(), { objectMode: false }), inflate).catch((error: unknown) => {
    throw new KilnError('LAYER_INVALID_COMPRESSION', `the layer is not valid ${kind}`, { cause: error });
  });
  // The pipeline's own failure also surfaces through the inflate stream's iterator.
  done.catch(() => {});
  const close = async () => {
    inflate.destroy();
    await closeInput();
  };
  return { stream: inflate, done, close };
}

function sniffCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

class LayerApplier {
  readonly #resolver: RootResolver;
  readonly #options: ExtractLayerOptions;
  readonly #owners: boolean;
  /** Resolved paths this layer created: whiteouts and opaque markers apply only to lower layers. */
  readonly #created = new Set<string>();
  readonly #deferred: DeferredMetadata;
  entries = 0;

  constructor(root: string, options: ExtractLayerOptions) {
    this.#resolver = new RootResolver(root);
    this.#options = options;
    this.#owners = options.preserveOwnership ?? process.getuid?.() === 0;
    this.#deferred = new DeferredMetadata(this.#resolver, options.onEvent);
  }

  async apply(header: TarReadHeader, reader: TarReader): Promise<void> {
    const parts = archivePathComponents(header.name);
    if (parts.length === 0) {
      // The root itself ("./"): its metadata is not the layer's to change.
      return;
    }
    const path = parts.join('/');
    if (this.#options.ignore?.(path)) {
      this.#options.onEvent?.({ type: 'extract-ignored', path });
      return;
    }
    if (header.type === 'other') return;
    if (this.#options.select && !this.#options.select(whiteoutTarget(parts), header)) return;
    this.entries++;
    const base = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);
    const resolver = this.#resolver;
    const parentRel = resolver.resolveDir(header.name, parentParts, true);
    if (base.startsWith(whiteoutPrefix)) {
      this.#whiteout(parentRel, base);
      return;
    }
    const rel = parentRel === '' ? base : `${parentRel}/${base}`;
    const abs = resolver.abs(rel);
    this.#created.add(rel);
    const owner = this.#owners ? header : undefined;

    if (header.type === 'dir') {
      try {
        mkdirSync(abs, { mode: 0o700 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (!lstatSync(abs).isDirectory()) {
          this.#remove(abs);
          mkdirSync(abs, { mode: 0o700 });
        }
      }
      resolver.remember(path, rel);
      setOwnerAndMode(abs, header, owner);
      this.#deferred.dirTime(rel, header.mtime);
      this.#deferred.xattrs(rel, header);
      return;
    }

    if (header.type === 'file') {
      const fd = this.#create(abs, () => openNewFile(abs));
      await writeFileContent(fd, header, reader, owner);
      this.#deferred.xattrs(rel, header);
      return;
    }

    if (header.type === 'symlink') {
      this.#create(abs, () => symlinkSync(header.linkname, abs));
      setSymlinkMetadata(abs, header, owner);
      return;
    }

    if (header.type === 'hardlink') {
      const targetParts = archivePathComponents(header.linkname);
      if (targetParts.length === 0)
        throw new KilnError('LAYER_UNSAFE_PATH', `hardlink "${path}" to the root`);
      const target = resolveLinkTarget(resolver, header.linkname, targetParts);
      this.#create(abs, () => linkSync(target, abs));
      return;
    }

    this.#create(abs, () => makeSpecialFile(abs, header));
    setMetadata(abs, header, owner);
  }

  finish(): void {
    this.#deferred.apply();
  }

  /** Runs `make`; if something is already at the path (from a lower layer), replaces it. */
  #create<T>(abs: string, make: () => T): T {
    try {
      return make();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    this.#remove(abs);
    return make();
  }

  #remove(abs: string): void {
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (st === undefined) return;
    if (st.isDirectory()) {
      rmSync(abs, { recursive: true, force: true });
      this.#resolver.invalidate();
    } else {
      unlinkSync(abs);
    }
  }

  #whiteout(parentRel: string, base: string): void {
    const parentAbs = this.#resolver.abs(parentRel);
    // Ignored paths (Kiln's own dirs in container mode) survive whiteouts too.
    const ignore = this.#options.ignore;
    if (base === opaqueMarker) {
      for (const child of readdirSync(parentAbs)) {
        const childRel = parentRel === '' ? child : `${parentRel}/${child}`;
        if (this.#created.has(childRel) || ignore?.(childRel)) continue;
        this.#remove(`${parentAbs}/${child}`);
      }
      return;
    }
    const name = base.slice(whiteoutPrefix.length);
    if (name === '' || name === '.' || name === '..') {
      throw new KilnError('LAYER_UNSAFE_PATH', `whiteout "${base}" in "${parentRel}" names no entry`);
    }
    const rel = parentRel === '' ? name : `${parentRel}/${name}`;
    if (this.#created.has(rel) || ignore?.(rel)) return;
    this.#remove(`${parentAbs}/${name}`);
  }
}

/** The path an entry is about: a whiteout's is the entry it removes (an opaque marker's, its dir). */
function whiteoutTarget(parts: string[]): string {
  const base = parts[parts.length - 1]!;
  if (!base.startsWith(whiteoutPrefix)) return parts.join('/');
  const parent = parts.slice(0, -1);
  if (base !== opaqueMarker) parent.push(base.slice(whiteoutPrefix.length));
  return parent.join('/');
}
