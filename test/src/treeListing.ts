import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  content?: string;
  target?: string;
}

/** Every path under `root` (relative) with type, mode, owner and small-file content or link target. */
export async function listTree(root: string, under = ''): Promise<Map<string, TreeEntry>> {
  const entries = new Map<string, TreeEntry>();
  const visit = async (relative: string) => {
    const path = join(root, relative);
    const info = await lstat(path);
    const entry: TreeEntry = {
      type: info.isFile() ? 'file' : info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'symlink' : 'other',
      mode: info.mode & 0o7777,
      uid: info.uid,
      gid: info.gid,
    };
    if (info.isFile() && info.size < 4096) entry.content = await readFile(path, 'utf8');
    if (info.isSymbolicLink()) entry.target = await readlink(path);
    if (relative !== '') entries.set(relative, entry);
    if (info.isDirectory()) {
      for (const name of (await readdir(path)).sort())
        await visit(relative === '' ? name : `${relative}/${name}`);
    }
  };
  await visit(under);
  return entries;
}
