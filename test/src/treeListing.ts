import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  /** Regular files: size and sha256 of the content; small ones also the text, for messages. */
  size?: number;
  sha256?: string;
  content?: string;
  target?: string;
}

/** Every path under `root` (relative) with type, mode, owner, file size and hash (and small files' text) or link target. */
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
    if (info.isFile()) {
      const bytes = await readFile(path);
      entry.size = info.size;
      entry.sha256 = createHash('sha256').update(bytes).digest('hex');
      if (info.size < 4096) entry.content = bytes.toString('utf8');
    }
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
