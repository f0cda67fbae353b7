import { createHash, type Hash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import { type Digest, digestHex, parseDigest, sha256Digest } from './digest.ts';

export interface BlobWriteResult {
  digest: Digest;
  size: number;
}

export interface BlobWriteOptions {
  /** When given, the blob is refused (and nothing kept) unless its content hashes to this. */
  expectedDigest?: Digest;
}

export type BlobSource = Uint8Array | AsyncIterable<Uint8Array> | Readable;

/** A blob being written chunk by chunk; invisible in the store until `commit`. */
export interface BlobWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly size: number;
  /** Hashes what was written, moves it into place, and returns its digest and size. */
  commit(expectedDigest?: Digest): Promise<BlobWriteResult>;
  /** Drops the partial blob. Safe to call after a failed commit or more than once. */
  abort(): Promise<void>;
}

// Small writes (tar headers) are gathered so the file sees few large writes.
const flushThreshold = 256 * 1024;

/**
 * A content-addressed blob store on disk: `<root>/blobs/sha256/<hex>`, the same shape as an OCI
 * image layout, so a layout directory can be read as a store. Blobs are written to a temp file
 * inside the store and renamed into place, so a reader never sees a partial blob and concurrent
 * writers of the same blob are harmless (the content and so the final file is the same).
 */
export interface BlobStoreOptions {
  /** Remove a blob found corrupt, so it is fetched again (default); false for a store that is the user's. */
  dropCorrupt?: boolean;
}

export class BlobStore {
  readonly root: string;
  readonly #tmpDir: string;
  readonly #dropCorrupt: boolean;
  #ready: Promise<void> | undefined;

  constructor(root: string, options: BlobStoreOptions = {}) {
    this.root = root;
    this.#tmpDir = join(root, 'blobs', '.tmp');
    this.#dropCorrupt = options.dropCorrupt ?? true;
  }

  path(digest: Digest): string {
    return join(this.root, 'blobs', 'sha256', digestHex(parseDigest(digest)));
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      return (await stat(this.path(digest))).isFile();
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async size(digest: Digest): Promise<number> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (error) {
      throw notFoundOr(error, digest, this.root);
    }
  }

  async write(source: BlobSource, options: BlobWriteOptions = {}): Promise<BlobWriteResult> {
    const writer = await this.createWriter();
    try {
      if (source instanceof Uint8Array) {
        await writer.write(source);
      } else {
        for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
          await writer.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        }
      }
      return await writer.commit(options.expectedDigest);
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  /** Serialises a value as compact JSON and stores it; the bytes returned are what was hashed. */
  async writeJson(value: unknown): Promise<BlobWriteResult & { bytes: Uint8Array }> {
    const bytes = Buffer.from(JSON.stringify(value), 'utf8');
    return { ...(await this.write(bytes)), bytes };
  }

  /** Stores a copy of an existing file (a copy: the caller may change the file afterwards). */
  async writeFile(file: string, options: BlobWriteOptions = {}): Promise<BlobWriteResult> {
    if (options.expectedDigest !== undefined && (await this.has(options.expectedDigest))) {
      return { digest: options.expectedDigest, size: await this.size(options.expectedDigest) };
    }
    return this.write(createReadStream(file), options);
  }

  /** Adds a blob from another store: a hardlink when both live on one file system, else a verified copy. */
  async copyFrom(source: BlobStore, digest: Digest): Promise<BlobWriteResult> {
    if (await this.has(digest)) return { digest, size: await this.size(digest) };
    await this.#ensureDirs();
    // A link shares the source's bytes, so they are checked first: a corrupt blob is never linked.
    await source.verify(digest);
    const tmp = join(this.#tmpDir, `${randomBytes(8).toString('hex')}.link`);
    try {
      await link(source.path(digest), tmp);
      await rename(tmp, this.path(digest));
      return { digest, size: await this.size(digest) };
    } catch (error) {
      await unlink(tmp).catch(() => {});
      if (!isCode(error, 'EXDEV') && !isCode(error, 'EPERM')) throw notFoundOr(error, digest, source.root);
    }
    return this.write(await source.open(digest), { expectedDigest: digest });
  }

  async createWriter(): Promise<BlobWriter> {
    await this.#ensureDirs();
    const tmp = join(this.#tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
    let handle: FileHandle;
    try {
      handle = await open(tmp, 'wx', 0o644);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      // The store's directories were removed since they were made: make them again.
      this.#ready = undefined;
      await this.#ensureDirs();
      handle = await open(tmp, 'wx', 0o644);
    }
    return new FileBlobWriter((digest) => this.path(digest), tmp, handle);
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await readFile(this.path(digest));
    } catch (error) {
      throw notFoundOr(error, digest, this.root);
    }
    const actual = sha256Digest(data);
    if (actual !== digest) {
      await this.#drop(digest);
      throw corrupt(digest, actual, this.root, this.#dropCorrupt);
    }
    return data;
  }

  /** Reads and parses a JSON blob (manifest, index, config), verifying its digest. */
  async readJson<T = unknown>(digest: Digest): Promise<T> {
    const data = await this.readBytes(digest);
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch (error) {
      throw new KilnError('INVALID_JSON', `blob ${digest} is not valid JSON`, { cause: error });
    }
  }

  /**
   * A read stream of a blob, verified as it streams: the content is hashed along and, when it is not
   * `digest`, the stream fails at its end with BLOB_CORRUPT (before its last byte is handed on) and
   * the blob is dropped from the store, so the next pull fetches it again. A consumer must read to
   * the end to get the verdict. Throws BLOB_NOT_FOUND up front rather than on the stream.
   */
  async open(digest: Digest): Promise<Readable> {
    let handle: FileHandle;
    try {
      handle = await open(this.path(digest), 'r');
    } catch (error) {
      throw notFoundOr(error, digest, this.root);
    }
    const file = handle.createReadStream({ highWaterMark: 1024 * 1024 });
    return Readable.from(this.#verified(file, digest), { objectMode: false });
  }

  /** Reads a whole blob and checks its digest; a corrupt blob is dropped and BLOB_CORRUPT thrown. */
  async verify(digest: Digest): Promise<void> {
    for await (const _ of await this.open(digest)) {
      // the verdict comes at the end
    }
  }

  async *#verified(file: Readable, digest: Digest): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    // Each chunk is handed on only once the next has arrived, so the last one waits for the verdict.
    let held: Buffer | undefined;
    for await (const chunk of file as AsyncIterable<Buffer>) {
      hash.update(chunk);
      if (held !== undefined) yield held;
      held = chunk;
    }
    const actual: Digest = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) {
      await this.#drop(digest);
      throw corrupt(digest, actual, this.root, this.#dropCorrupt);
    }
    if (held !== undefined) yield held;
  }

  async #drop(digest: Digest): Promise<void> {
    if (this.#dropCorrupt) await unlink(this.path(digest)).catch(() => {});
  }

  #ensureDirs(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(join(this.root, 'blobs', 'sha256'), { recursive: true });
      await mkdir(this.#tmpDir, { recursive: true });
    })();
    // A failed mkdir is retried by the next caller rather than cached.
    this.#ready.catch(() => {
      this.#ready = undefined;
    });
    return this.#ready;
  }
}

class FileBlobWriter implements BlobWriter {
  readonly #finalPath: (digest: Digest) => string;
  readonly #tmp: string;
  readonly #handle: FileHandle;
  readonly #hash: Hash = createHash('sha256');
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #size = 0;
  #closed = false;
  #done = false;

  constructor(finalPath: (digest: Digest) => string, tmp: string, handle: FileHandle) {
    this.#finalPath = finalPath;
    this.#tmp = tmp;
    this.#handle = handle;
  }

  get size(): number {
    return this.#size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#done) throw new KilnError('BLOB_WRITER_CLOSED', 'write after commit or abort');
    if (chunk.byteLength === 0) return;
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
    if (chunk.byteLength >= flushThreshold && this.#pendingBytes === 0) {
      await writeAll(this.#handle, chunk);
      return;
    }
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.byteLength;
    if (this.#pendingBytes >= flushThreshold) await this.#flush();
  }

  async commit(expectedDigest?: Digest): Promise<BlobWriteResult> {
    if (this.#done) throw new KilnError('BLOB_WRITER_CLOSED', 'commit after commit or abort');
    try {
      await this.#flush();
      await this.#close();
      const digest: Digest = `sha256:${this.#hash.digest('hex')}`;
      if (expectedDigest !== undefined && expectedDigest !== digest) {
        throw new KilnError(
          'DIGEST_MISMATCH',
          `blob content hashes to ${digest}, expected ${expectedDigest}`,
          {
            hint: 'the source is corrupt or was changed while being read',
          },
        );
      }
      await rename(this.#tmp, this.#finalPath(digest));
      this.#done = true;
      return { digest, size: this.#size };
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  async abort(): Promise<void> {
    this.#done = true;
    this.#pending = [];
    await this.#close().catch(() => {});
    await unlink(this.#tmp).catch(() => {});
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const data = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    await writeAll(this.#handle, data);
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close();
  }
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function isNotFound(error: unknown): boolean {
  return isCode(error, 'ENOENT');
}

function corrupt(digest: Digest, actual: Digest, root: string, dropped: boolean): KilnError {
  const message = `blob ${digest} in ${root} hashes to ${actual}`;
  return new KilnError('BLOB_CORRUPT', dropped ? `${message}; it was removed` : message, {
    hint: dropped
      ? 'the store was changed on disk; run the build again to fetch the blob anew'
      : 'the blob was changed on disk; restore or re-create it',
  });
}

function notFoundOr(error: unknown, digest: Digest, root: string): unknown {
  if (isNotFound(error)) {
    return new KilnError('BLOB_NOT_FOUND', `blob ${digest} is not in the store at ${root}`, { cause: error });
  }
  return error;
}
