import type { ChildProcess } from 'node:child_process';

export interface HelperRecordsRead {
  /** Whether the helper wrote anything at all (an old helper answers with its usage instead). */
  received: boolean;
  /** Bytes after the last whole record: a helper that stopped mid-record. */
  pending: Buffer | undefined;
}

/**
 * Reads `kiln-xattr`'s records (a u32 LE length, then that many bytes) from its stdout and hands each
 * to `record`, until the output ends or `failed()` says a record was refused. A read that did not
 * reach the end (a refused record, a visitor that threw) kills the helper: the rest is not wanted.
 */
export async function readHelperRecords(
  child: ChildProcess,
  record: (buf: Buffer, start: number, end: number) => void,
  failed: () => boolean,
): Promise<HelperRecordsRead> {
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
  return { received, pending };
}
