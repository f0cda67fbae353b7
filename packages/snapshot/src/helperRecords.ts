import type { ChildProcess } from 'node:child_process';
import { getSystemErrorMessage, getSystemErrorName } from 'node:util';
import type { EntryStat } from './listDirectory.ts';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const TWO_32 = 2 ** 32;

export interface HelperRecordsRead {
  /** The helper's exit code. */
  code: number | null;
  /** Bytes after the last whole record: a helper that stopped mid-record. */
  pending: Buffer | undefined;
}

/**
 * Reads `kiln-xattr`'s records (a u32 LE length, then that many bytes) from its stdout and hands each
 * to `record`, until the output ends or `failure()` names a refused record (then thrown). A read that
 * did not reach the end (a refused record, a visitor that threw) kills the helper: the rest is not
 * wanted. Undefined when the helper could not start or does not know the mode: work in process.
 */
export async function readHelperRecords(
  child: ChildProcess,
  exited: Promise<number | null>,
  record: (buf: Buffer, start: number, end: number) => void,
  failure: () => Error | undefined,
): Promise<HelperRecordsRead | undefined> {
  const failed = () => failure() !== undefined;
  let pending: Buffer | undefined;
  let received = false;
  let completed = false;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      received = true;
      const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      while (at + 4 <= buf.length) {
        const length = buf.readUInt32LE(at);
        if (at + 4 + length > buf.length) break;
        if (!failed()) record(buf, at + 4, at + 4 + length);
        at += 4 + length;
      }
      pending = at < buf.length ? buf.subarray(at) : undefined;
      if (failed()) break;
    }
    completed = !failed();
  } finally {
    if (!completed) child.kill();
  }
  let code: number | null;
  try {
    code = await exited;
  } catch (error) {
    // The helper could not start (missing, not executable): the caller works in process.
    if (!received) return undefined;
    throw error;
  }
  const refused = failure();
  if (refused !== undefined) throw refused;
  // A kiln-xattr older than the mode answers with its usage (exit 2) before any record.
  if (code === 2 && !received) return undefined;
  return { code, pending };
}

/** A stat'ed entry's fields and symlink target, as `walk` and `rescan` write them; `at` is past them. */
export function readHelperStat(buf: Buffer, from: number): { stat: EntryStat; at: number } {
  let at = from;
  const stat: EntryStat = {
    mode: buf.readUInt32LE(at),
    uid: buf.readUInt32LE(at + 4),
    gid: buf.readUInt32LE(at + 8),
    nlink: buf.readUInt32LE(at + 12),
    size: uint64(buf, at + 16),
    dev: uint64(buf, at + 24),
    ino: uint64(buf, at + 32),
    rdev: uint64(buf, at + 40),
    mtimeNs: buf.readBigInt64LE(at + 48),
    ctimeNs: buf.readBigInt64LE(at + 56),
  };
  at += 64;
  if ((stat.mode & S_IFMT) === S_IFLNK) {
    const length = buf.readUInt16LE(at);
    stat.linkTarget = buf.toString('utf8', at + 2, at + 2 + length);
    at += 2 + length;
  }
  return { stat, at };
}

/** The xattrs that follow an entry (a count, then name and value pairs), set on `stat` when any. */
export function readHelperXattrs(buf: Buffer, from: number, end: number, stat: EntryStat): void {
  let at = from;
  const count = buf.readUInt16LE(at);
  at += 2;
  if (count === 0) return;
  const xattrs: Record<string, Uint8Array> = {};
  for (let n = 0; n < count && at < end; n++) {
    const nameEnd = at + 2 + buf.readUInt16LE(at);
    const name = buf.toString('utf8', at + 2, nameEnd);
    const valueLength = buf.readUInt32LE(nameEnd);
    xattrs[name] = new Uint8Array(buf.subarray(nameEnd + 4, nameEnd + 4 + valueLength));
    at = nameEnd + 4 + valueLength;
  }
  stat.xattrs = xattrs;
}

/** The error readdir would have thrown for the directory, with its code (EACCES, …). */
export function failedListing(errno: number, root: string, path: string): Error {
  const code = getSystemErrorName(-errno);
  const abs = path === '' ? root : `${root === '/' ? '' : root}/${path}`;
  return Object.assign(new Error(`${code}: ${getSystemErrorMessage(-errno)}, scandir '${abs}'`), { code });
}

function uint64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * TWO_32;
}
