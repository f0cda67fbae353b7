import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  lutimesSync,
  openSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import type { RootResolver } from './rootResolver.ts';
import type { TarReader, TarReadHeader } from './tarReader.ts';

/**
 * What extractLayer's and extractArchive's appliers do alike once an entry's path is resolved inside
 * the root: make the file, link or device, and set its owner, mode and times. Each applier keeps its
 * own rules (names, whiteouts, replacing what is there, owners) and decides what `abs` is.
 */

/** The owner to give an entry, or undefined to leave the extracting user's (not running as root). */
export type EntryOwner = { uid: number; gid: number } | undefined;

const writeFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Creates a regular file that must not exist yet; a symlink at `abs` is never followed. */
export function openNewFile(abs: string): number {
  return openSync(abs, writeFlags, 0o600);
}

/** Writes the entry's content to `fd` (from `openNewFile`), then its owner, mode and mtime; closes it. */
export async function writeFileContent(
  fd: number,
  header: TarReadHeader,
  reader: TarReader,
  owner: EntryOwner,
): Promise<void> {
  try {
    await reader.readContent((chunk) => {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
    });
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, header.mode);
    futimesSync(fd, header.mtime, header.mtime);
  } finally {
    closeSync(fd);
  }
}

/** Makes a fifo or a device: Node has no mknod, so the coreutils tools make them. */
export function makeSpecialFile(abs: string, header: TarReadHeader): void {
  const mode = (header.mode & 0o7777).toString(8);
  if (header.type === 'fifo') {
    execFileSync('mkfifo', ['-m', mode, abs], { stdio: 'pipe' });
  } else {
    const kind = header.type === 'char' ? 'c' : 'b';
    const device = [String(header.devmajor), String(header.devminor)];
    execFileSync('mknod', ['-m', mode, abs, kind, ...device], { stdio: 'pipe' });
  }
}

/** Owner and mode of something that is not a symlink (a directory's time is set at the end). */
export function setOwnerAndMode(abs: string, header: TarReadHeader, owner: EntryOwner): void {
  if (owner) lchownSync(abs, owner.uid, owner.gid);
  chmodSync(abs, header.mode);
}

/** Owner, mode and mtime of something that is not a symlink nor a directory. */
export function setMetadata(abs: string, header: TarReadHeader, owner: EntryOwner): void {
  setOwnerAndMode(abs, header, owner);
  utimesSync(abs, header.mtime, header.mtime);
}

/** Owner and mtime of the symlink itself (a symlink has no mode of its own). */
export function setSymlinkMetadata(abs: string, header: TarReadHeader, owner: EntryOwner): void {
  if (owner) lchownSync(abs, owner.uid, owner.gid);
  lutimesSync(abs, header.mtime, header.mtime);
}

/**
 * The absolute path of a hard link's target, its directories resolved inside the root (never
 * created); `components` is the target's cleaned, non-empty name.
 */
export function resolveLinkTarget(resolver: RootResolver, linkname: string, components: string[]): string {
  const parent = resolver.resolveDir(linkname, components.slice(0, -1), false);
  const name = components[components.length - 1]!;
  return resolver.abs(parent === '' ? name : `${parent}/${name}`);
}
