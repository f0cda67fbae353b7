import { KilnError } from '@kiln/errors';
import type { EntryColumns } from './entryColumns.ts';
import { failedListing, readHelperRecords, readHelperStat, readHelperXattrs } from './helperRecords.ts';
import type { EntryStat } from './listDirectory.ts';
import { spawnHelper } from './spareHelpers.ts';
import { resolveXattrHelper, type XattrHelperCommand } from './xattrHelper.ts';

const TAG_KEEP = 0x4b; // K
const TAG_ENTRY = 0x45; // E
const TAG_VANISHED = 0x56; // V
const TAG_UNDECODABLE = 0x55; // U
const TAG_FAILED = 0x46; // F
const NO_ROW = 0xffffffff;

/** `kiln-xattr rescan`, when the helper is Kiln's C one (the python3 fallback has none). */
export function rescanHelper(env: NodeJS.ProcessEnv = process.env): XattrHelperCommand | undefined {
  const helper = resolveXattrHelper('rescan', '', env);
  return helper?.args.length === 1 ? helper : undefined;
}

export interface RescanVisitor {
  /** Previous rows `start … start + count − 1` are there, every field the same. */
  keep: (start: number, count: number) => void;
  /** A new or changed entry; `previous` is its row in the previous snapshot, or -1. */
  entry: (path: string, stat: EntryStat, previous: number) => void;
  skipped: (path: string, reason: 'vanished' | 'undecodable-name') => void;
}

export interface RescanRequest {
  root: string;
  /** Prefix rules, relative paths: never entered. */
  ignored: readonly string[];
  previous: EntryColumns;
  /** The previous paths joined by NUL (no trailing NUL), when the caller has them as bytes already. */
  previousPathBytes?: Uint8Array;
  threads: number;
  xattrs: boolean;
}

/**
 * A rescan done by `kiln-xattr rescan` (images/executor/xattr-helper.c): it gets the previous snapshot's
 * paths and stat columns as raw bytes, lists and lstats the tree with threads, compares in C and sends
 * back only what differs (`E`, with xattrs read for those) and runs of unchanged previous rows (`K`):
 * an unchanged tree costs this thread one record, not one object per entry. False when the helper has
 * no `rescan` (an older build) or cannot be started: nothing was visited.
 */
export async function rescanWithHelper(
  helper: XattrHelperCommand,
  request: RescanRequest,
  visitor: RescanVisitor,
): Promise<boolean> {
  // Started first: it lists the tree while the request is encoded and sent.
  const child = spawnHelper(helper, request.root);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  exited.catch(() => {});
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => {});
  for (const part of rescanRequestBytes(request)) child.stdin.write(part);
  child.stdin.end();

  let failure: Error | undefined;
  const record = (buf: Buffer, start: number, end: number): void => {
    const tag = buf[start];
    const at = start + 1;
    if (tag === TAG_KEEP) {
      visitor.keep(buf.readUInt32LE(at), buf.readUInt32LE(at + 4));
      return;
    }
    if (tag === TAG_FAILED) {
      const errno = buf.readInt32LE(at);
      const length = buf.readUInt16LE(at + 4);
      failure ??= failedListing(errno, request.root, buf.toString('utf8', at + 6, at + 6 + length));
      return;
    }
    if (tag === TAG_VANISHED || tag === TAG_UNDECODABLE) {
      const length = buf.readUInt16LE(at);
      const path = buf.toString('utf8', at + 2, at + 2 + length);
      visitor.skipped(path, tag === TAG_VANISHED ? 'vanished' : 'undecodable-name');
      return;
    }
    if (tag !== TAG_ENTRY) throw new Error(`unknown record ${tag}`);
    const row = buf.readUInt32LE(at);
    const nameLength = buf.readUInt16LE(at + 4);
    const path = buf.toString('utf8', at + 6, at + 6 + nameLength);
    visitor.entry(path, readStat(buf, at + 6 + nameLength, end), row === NO_ROW ? -1 : row);
  };

  const output = await readHelperRecords(child, exited, record, () => failure);
  if (output === undefined) return false;
  const { code, pending } = output;
  if (code !== 0 || pending !== undefined) {
    const detail = Buffer.concat(stderr).toString('utf8').trim();
    // Kiln encodes the request from a snapshot's columns: only a damaged saved file makes it malformed.
    if (code === 1 && detail.includes('malformed input')) {
      throw new KilnError(
        'SNAPSHOT_BAD_FILE',
        `the saved snapshot is damaged (${detail.replace(/^kiln-xattr: /, '')})`,
        {
          hint: 'save it again with `kiln snapshot DIR --save FILE`',
        },
      );
    }
    throw new KilnError(
      'SNAPSHOT_WALK_FAILED',
      `kiln-xattr rescan exited with ${code}${detail === '' ? '' : `: ${detail}`}`,
      {
        hint: `the helper was ${helper.command}; $KILN_XATTR_HELPER, if set, must name a current kiln-xattr`,
      },
    );
  }
  return true;
}

/** An `E` record's stat, symlink target and xattrs (the layout of `walk`'s stat'ed entries). */
function readStat(buf: Buffer, from: number, end: number): EntryStat {
  const { stat, at } = readHelperStat(buf, from);
  readHelperXattrs(buf, at, end, stat);
  return stat;
}

/**
 * stdin of `kiln-xattr rescan` (see xattr-helper.c): a header, the ignore rules, then the previous
 * snapshot as its paths and stat columns, written straight from the typed arrays (little-endian, as on
 * every platform Node runs Kiln on), so encoding it costs copies, not a loop over entries.
 */
export function rescanRequestBytes(request: RescanRequest): Uint8Array[] {
  const { previous } = request;
  const count = previous.types.length;
  const ignored = Buffer.from(request.ignored.map((rule) => `${rule}\0`).join(''), 'utf8');
  const paths =
    request.previousPathBytes ?? (count === 0 ? Buffer.alloc(0) : Buffer.from(previous.paths.join('\0')));
  const pathBytes = count === 0 ? 0 : paths.length + 1;
  const rdevs = new Float64Array(count);
  for (const [i, rdev] of previous.rdevs) if (i < count) rdevs[i] = rdev;
  // Symlink targets as one buffer of (row, length, bytes) records: tens of thousands on a real rootfs.
  let linkBytes = 0;
  for (const target of previous.linkTargets.values()) linkBytes += 8 + Buffer.byteLength(target, 'utf8');
  const links = Buffer.allocUnsafe(linkBytes);
  let linkAt = 0;
  for (const [i, target] of previous.linkTargets) {
    const length = links.write(target, linkAt + 8, 'utf8');
    links.writeUInt32LE(i, linkAt);
    links.writeUInt32LE(length, linkAt + 4);
    linkAt += 8 + length;
  }
  const head = Buffer.alloc(16 + ignored.length + 12);
  head.write('KRS1', 0, 'latin1');
  head.writeUInt32LE(Math.max(1, Math.floor(request.threads)), 4);
  head.writeUInt32LE(request.xattrs ? 1 : 0, 8);
  head.writeUInt32LE(ignored.length, 12);
  ignored.copy(head, 16);
  const at = 16 + ignored.length;
  head.writeUInt32LE(count, at);
  head.writeUInt32LE(pathBytes, at + 4);
  head.writeUInt32LE(linkBytes, at + 8);
  const bytesOf = (array: ArrayBufferView & { length: number; BYTES_PER_ELEMENT: number }) =>
    new Uint8Array(array.buffer, array.byteOffset, count * array.BYTES_PER_ELEMENT);
  return [
    head,
    paths,
    ...(count === 0 ? [] : [Buffer.alloc(1)]),
    bytesOf(previous.types),
    bytesOf(previous.modes),
    bytesOf(previous.uids),
    bytesOf(previous.gids),
    bytesOf(previous.nlinks),
    bytesOf(previous.sizes),
    bytesOf(previous.devs),
    bytesOf(previous.inos),
    bytesOf(rdevs),
    bytesOf(previous.mtimes),
    bytesOf(previous.ctimes),
    links,
  ];
}
