import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fetchFailed } from './contextErrors.ts';

/** Default cap on a downloaded context or Dockerfile: large enough for any sane context, small enough to stop a runaway server. */
export const defaultMaxContextBytes = 8 * 1024 ** 3;

/**
 * Streams a download to `file`, never holding it in memory, and fails with `CONTEXT_FETCH_FAILED`
 * (naming `url`) once more than `maxBytes` arrive.
 */
export async function streamToFile(
  body: NodeJS.ReadableStream | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  file: string,
  url: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > maxBytes) done(fetchFailed(url, `larger than the ${maxBytes}-byte limit`));
      else done(null, chunk);
    },
  });
  const source =
    body instanceof ReadableStream
      ? Readable.fromWeb(body as import('node:stream/web').ReadableStream)
      : body;
  try {
    await pipeline(source as AsyncIterable<Uint8Array>, limit, createWriteStream(file, { mode: 0o600 }), {
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'CONTEXT_FETCH_FAILED') throw error;
    throw fetchFailed(url, error instanceof Error ? error.message : String(error), error);
  }
  return total;
}
