import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type Change, type ChangeSet, comparePaths, type Entry } from '@kiln/snapshot';

/** An entry from lstat, as the snapshotter would describe it (xattrs not read: Node has no API for them). */
export function entryFromLstat(root: string, path: string): Entry | undefined {
  const st = lstatSync(join(root, path), { bigint: true });
  let type: Entry['type'];
  if (st.isFile()) type = 'file';
  else if (st.isDirectory()) type = 'dir';
  else if (st.isSymbolicLink()) type = 'symlink';
  else if (st.isCharacterDevice()) type = 'char';
  else if (st.isBlockDevice()) type = 'block';
  else if (st.isFIFO()) type = 'fifo';
  else return undefined; // sockets do not go into layers
  const entry: Entry = {
    path,
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: type === 'file' ? Number(st.size) : 0,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    dev: Number(st.dev),
    ino: Number(st.ino),
    nlink: Number(st.nlink),
  };
  if (type === 'symlink') entry.linkTarget = readlinkSync(join(root, path), 'utf8');
  if (type === 'char' || type === 'block') entry.rdev = Number(st.rdev);
  return entry;
}

/**
 * Every path under `root` (or under the given paths, relative to it) as `added` changes: a layer
 * of a whole tree or of what a COPY wrote.
 */
export function changeSetFromTree(root: string, paths?: string[]): ChangeSet {
  const changes: Change[] = [];
  const visit = (path: string) => {
    const entry = entryFromLstat(root, path);
    if (entry === undefined) return;
    changes.push({ path, kind: 'added', entry });
    if (entry.type === 'dir') {
      for (const name of readdirSync(join(root, path))) visit(`${path}/${name}`);
    }
  };
  const starts = paths ?? readdirSync(root);
  for (const start of starts) visit(start.replace(/^\/+|\/+$/g, ''));
  changes.sort((a, b) => comparePaths(a.path, b.path));
  return { changes, opaqueDirs: [] };
}
