import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import {
  allocateHashResult,
  HASH_FAILED,
  HASH_NOT_FILE,
  HASH_OK,
  HASH_VANISHED,
  type HashResultView,
} from '../hashMessages.ts';
import { packStat } from '../listDirectory.ts';

const CHUNK = 1 << 20;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
/** A file whose lstat was deferred is opened without following a symlink, and never blocks (a fifo). */
const OPEN_TO_STAT = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
let api: Promise<XXHashAPI> | undefined;
let chunk: Buffer | undefined;

/**
 * Hashes files with xxh64 using sync reads into one reused buffer: in a worker nothing else waits, and
 * sync reads avoid a libuv round trip per chunk. Runs in hash workers and, for small trees, on the main thread.
 *
 * With `stat`, each file is also fstat'ed once open: the walk deferred its lstat, and an fstat of the
 * open file costs no second path lookup. A file found to be no longer regular is reported, not hashed.
 */
export async function hashFileBatch(
  paths: readonly string[],
  stat = false,
): Promise<{ buffer: ArrayBuffer; view: HashResultView }> {
  api ??= xxhash();
  const { h64Raw, create64 } = await api;
  chunk ??= Buffer.allocUnsafe(CHUNK);
  const result = allocateHashResult(paths.length, stat);
  const { hashes, bytes, status, statNumbers, statTimes } = result.view;
  for (let i = 0; i < paths.length; i++) {
    let fd: number;
    try {
      fd = openSync(paths[i]!, stat ? OPEN_TO_STAT : 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      status[i] =
        code === 'ENOENT' || code === 'ENOTDIR'
          ? HASH_VANISHED
          : code === 'ELOOP' && stat
            ? HASH_NOT_FILE
            : HASH_FAILED;
      continue;
    }
    try {
      if (stat) {
        const st = fstatSync(fd, { bigint: true });
        if ((Number(st.mode) & S_IFMT) !== S_IFREG) {
          status[i] = HASH_NOT_FILE;
          continue;
        }
        packStat(st, i, statNumbers!, statTimes!);
      }
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
