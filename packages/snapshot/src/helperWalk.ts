import { KilnError } from '@kiln/errors';
import { failedListing, readHelperRecords, readHelperStat, readHelperXattrs } from './helperRecords.ts';
import type { EntryStat } from './listDirectory.ts';
import { spawnHelper } from './spareHelpers.ts';
import type { WalkVisitor } from './walkTree.ts';
import { resolveXattrHelper, type XattrHelperCommand } from './xattrHelper.ts';

const S_IFREG = 0o100000;
const TAG_ENTRY = 0x45; // E
const TAG_ENTER = 0x50; // P
const TAG_LEAVE = 0x4f; // O
const TAG_VANISHED = 0x56; // V
const TAG_UNDECODABLE = 0x55; // U
const TAG_FAILED = 0x46; // F

/** `kiln-xattr walk`, when the helper is Kiln's C one (the python3 fallback has no walk). */
export function walkHelper(env: NodeJS.ProcessEnv = process.env): XattrHelperCommand | undefined {
  const helper = resolveXattrHelper('walk', '', env);
  return helper?.args.length === 1 ? helper : undefined;
}

/**
 * A first snapshot's walk, done by `kiln-xattr walk` (images/executor/xattr-helper.c) in its own
 * process: it lists every directory, lstats all but regular files (the hash workers fstat those) and
 * reads every entry's xattrs, with lookups relative to open directories; this thread only decodes its
 * records, in path order, while hash results come in between chunks. Entries arrive as from walkTree,
 * with `xattrs` set when an entry has any. `ignored` are prefix rules (relative paths): the helper
 * never enters them. False when the helper has no `walk` (an older build) or cannot be started: nothing
 * was visited.
 */
export async function walkWithHelper(
  helper: XattrHelperCommand,
  root: string,
  ignored: readonly string[],
  visitor: WalkVisitor,
): Promise<boolean> {
  const child = spawnHelper(helper, root);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  exited.catch(() => {});
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => {});
  child.stdin.end(ignored.map((rule) => `${rule}\0`).join(''));

  const parents: string[] = [];
  let prefix = '';
  let failure: Error | undefined;
  const record = (buf: Buffer, start: number, end: number): void => {
    let at = start + 1;
    const tag = buf[start];
    if (tag === TAG_LEAVE) {
      prefix = parents.pop() ?? '';
      return;
    }
    if (tag === TAG_FAILED) {
      const errno = buf.readInt32LE(at);
      const length = buf.readUInt16LE(at + 4);
      const path = buf.toString('utf8', at + 6, at + 6 + length);
      failure ??= failedListing(errno, root, path);
      return;
    }
    const stated = tag === TAG_ENTRY ? buf[at++] === 1 : false;
    const nameLength = buf.readUInt16LE(at);
    at += 2;
    const path = prefix + buf.toString('utf8', at, at + nameLength);
    at += nameLength;
    if (tag === TAG_ENTER) {
      parents.push(prefix);
      prefix = `${path}/`;
      return;
    }
    if (tag === TAG_VANISHED || tag === TAG_UNDECODABLE) {
      visitor.skipped(path, tag === TAG_VANISHED ? 'vanished' : 'undecodable-name');
      return;
    }
    let stat: EntryStat;
    if (stated) {
      ({ stat, at } = readHelperStat(buf, at));
    } else {
      stat = { ...deferredFile };
    }
    readHelperXattrs(buf, at, end, stat);
    visitor.entry(path, stat);
  };

  const output = await readHelperRecords(child, exited, record, () => failure);
  if (output === undefined) return false;
  const { code, pending } = output;
  if (code !== 0 || pending !== undefined) {
    const detail = Buffer.concat(stderr).toString('utf8').trim();
    throw new KilnError(
      'SNAPSHOT_WALK_FAILED',
      `kiln-xattr walk exited with ${code}${detail === '' ? '' : `: ${detail}`}`,
      {
        hint: `the helper was ${helper.command}; $KILN_XATTR_HELPER, if set, must name a current kiln-xattr`,
      },
    );
  }
  return true;
}

/** A regular file by its directory entry: the hash worker stats it (see EntryStat.deferred). */
const deferredFile: EntryStat = {
  mode: S_IFREG,
  uid: 0,
  gid: 0,
  size: 0,
  dev: 0,
  ino: 0,
  nlink: 0,
  rdev: 0,
  mtimeNs: 0n,
  ctimeNs: 0n,
  deferred: true,
};
