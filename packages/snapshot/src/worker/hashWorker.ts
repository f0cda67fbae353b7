import { move } from 'piscina';
import type { HashTask, ListTask } from '../hashMessages.ts';
import { type DirectoryListing, listDirectory, listingFailure } from '../listDirectory.ts';
import { hashFileBatch } from './hashFileBatch.ts';

/** The piscina entry: one batch of paths in, one transferred result buffer out. */
export default async function hashWorker(task: HashTask): Promise<ArrayBuffer> {
  const { buffer } = await hashFileBatch(task.paths.split('\0'), task.stat);
  return move(buffer) as ArrayBuffer;
}

/**
 * The `listDirectories` entry (piscina's `name` option): a batch of directories listed and lstat'ed.
 * A directory that cannot be read comes back with its error as data, so its code survives the crossing.
 */
export function listDirectories(task: ListTask): DirectoryListing[] {
  return task.dirs.map((dir) => {
    try {
      return listDirectory(dir);
    } catch (error) {
      return listingFailure(error);
    }
  });
}
