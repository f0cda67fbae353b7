import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, pipeline, Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';

/** The compressions Docker recognises on an archive ADD unpacks (moby's DetectCompression). */
export type ArchiveCompression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** By content, never by name: the same magic numbers Docker and BuildKit test. */
export function detectArchiveCompression(head: Uint8Array): ArchiveCompression {
  const starts = (...bytes: number[]) => bytes.every((byte, i) => head[i] === byte);
  if (starts(0x1f, 0x8b, 0x08)) return 'gzip';
  if (starts(0x42, 0x5a, 0x68)) return 'bzip2';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  // A zstd stream may open with a skippable frame (magic 0x184D2A5?, little-endian).
  if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && starts(head[0]!, 0x2a, 0x4d, 0x18)) return 'zstd';
  return 'none';
}

export interface DecompressedFile {
  compression: ArchiveCompression;
  /** The decompressed bytes; a read or decompression failure surfaces as an error while iterating. */
  stream: Readable;
  /** Stops reading and frees the decompressor (safe to call more than once). */
  close(): void;
}

/**
 * Opens a file and streams it decompressed: gzip and zstd through Node's zlib, bzip2 through
 * unbzip2-stream (pure JS) and xz through xz-decompress (liblzma as inline WebAssembly), so the
 * bundled CLI needs neither native modules nor host tools.
 */
export async function openDecompressed(path: string): Promise<DecompressedFile> {
  const head = Buffer.alloc(8);
  const handle = await open(path, 'r');
  let bytesRead: number;
  try {
    ({ bytesRead } = await handle.read(head, 0, head.length, 0));
  } finally {
    await handle.close();
  }
  const compression = detectArchiveCompression(head.subarray(0, bytesRead));
  // bzip2 and xz archives are rare: their decoders load when one is met, not with every build.
  const unbzip2Stream = compression === 'bzip2' ? (await import('unbzip2-stream')).default : undefined;
  const xzDecompress = compression === 'xz' ? (await import('xz-decompress')).default : undefined;
  const source = createReadStream(path, { highWaterMark: 1024 * 1024 });
  let stream: Readable;
  if (compression === 'none') {
    stream = source;
  } else if (compression === 'gzip' || compression === 'zstd') {
    const inflate =
      compression === 'gzip'
        ? createGunzip({ chunkSize: 256 * 1024 })
        : createZstdDecompress({ chunkSize: 256 * 1024 });
    // A failure of either side destroys the inflate stream with it, so iteration throws.
    stream = pipeline(source, inflate, () => {});
  } else if (compression === 'bzip2') {
    // unbzip2-stream is an old-style stream: piped into a PassThrough, errors forwarded by hand.
    const bunzip = unbzip2Stream!();
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    source.on('error', (error) => out.destroy(error));
    bunzip.on('error', (error: Error) => out.destroy(error));
    source.pipe(bunzip).pipe(out);
    stream = out;
  } else {
    stream = Readable.fromWeb(new xzDecompress!.XzReadableStream(Readable.toWeb(source)) as never);
  }
  return {
    compression,
    stream,
    close() {
      stream.destroy();
      source.destroy();
    },
  };
}
