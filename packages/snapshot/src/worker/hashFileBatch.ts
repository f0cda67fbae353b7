import { closeSync, openSync, readSync } from 'node:fs';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import {
  allocateHashResult,
  HASH_FAILED,
  HASH_OK,
  HASH_VANISHED,
  type HashResultView,
} from '../hashMessages.ts';

const CHUNK = 1 << 20;
let api: Promise<XXHashAPI> | undefined;
let chunk: Buffer | undefined;

/**
 * Hashes files with xxh64 using sync reads into one reused buffer: in a worker nothing else waits, and
 * sync reads avoid a libuv round trip per chunk. Runs in hash workers and, for small trees, on the main thread.
 */
export async function hashFileBatch(
  paths: readonly string[],
): Promise<{ buffer: ArrayBuffer; view: HashResultView }> {
  api ??= xxhash();
  const { h64Raw, create64 } = await api;
  chunk ??= Buffer.allocUnsafe(CHUNK);
  const result = allocateHashResult(paths.length);
  const { hashes, bytes, status } = result.view;
  for (let i = 0; i < paths.length; i++) {
    let fd: number;
    try {
      fd = openSync(paths[i]!, 'r');
    } catch (error) {
      status[i] = (error as NodeJS.ErrnoException).code === 'ENOENT' ? HASH_VANISHED : HASH_FAILED;
      continue;
    }
    try {
      let read = readSync(fd, chunk, 0, CHUNK, null);
      if (read < CHUNK) {
        hashes[i] = h64Raw(chunk.subarray(0, read));
        bytes[i] = read;
      } else {
        const hasher = create64();
        let total = 0;
        while (read > 0) {
          hasher.update(chunk.subarray(0, read));
          total += read;
          read = readSync(fd, chunk, 0, CHUNK, null);
        }
        hashes[i] = hasher.digest();
        bytes[i] = total;
      }
      status[i] = HASH_OK;
    } catch {
      status[i] = HASH_FAILED;
    } finally {
      closeSync(fd);
    }
  }
  return result;
}
