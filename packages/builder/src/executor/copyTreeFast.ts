import { constants } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  lchown,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readlink,
  symlink,
  utimes,
} from 'node:fs/promises';
import { join } from 'node:path';

// Enough operations in flight to keep the kernel busy on two cores without a storm of open files.
const parallel = 32;

/**
 * Copies a tree as `cp -a` would (modes, owners, times, symlinks as they are), for container mode,
 * where no `cp` exists. Node's `fs.cp` took 30 s for a 20,000-file cache here (`cp -a`: 3 s): it
 * stats every entry several times and copies one file at a time. This walks once and keeps many
 * copies in flight. Sockets, fifos and devices are skipped: a cache or a bind source has none worth keeping.
 */
export async function copyTreeFast(from: string, to: string): Promise<void> {
  const limit = createLimit(parallel);
  await copyEntry(from, to, limit);
}

type Limit = <T>(work: () => Promise<T>) => Promise<T>;

async function copyEntry(from: string, to: string, limit: Limit): Promise<void> {
  const info = await limit(() => lstat(from));
  if (info.isDirectory()) {
    await limit(() => mkdir(to, { mode: 0o700 }));
    const names = await limit(() => readdir(from));
    await Promise.all(names.map((name) => copyEntry(join(from, name), join(to, name), limit)));
    // Owner, mode and times last: children no longer touch the directory after this.
    await limit(async () => {
      await chown(to, info.uid, info.gid);
      await chmod(to, info.mode & 0o7777);
      await utimes(to, info.atime, info.mtime);
    });
  } else if (info.isFile()) {
    await limit(async () => {
      await copyFile(from, to, constants.COPYFILE_FICLONE);
      await chown(to, info.uid, info.gid);
      // chown clears set-id bits: the mode goes after it.
      if (info.mode & 0o6000) await chmod(to, info.mode & 0o7777);
      await utimes(to, info.atime, info.mtime);
    });
  } else if (info.isSymbolicLink()) {
    await limit(async () => {
      await symlink(await readlink(from), to);
      await lchown(to, info.uid, info.gid);
      await lutimes(to, info.atime, info.mtime);
    });
  }
}

function createLimit(max: number): Limit {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await work();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
