import { lstat, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { KilnError } from '@kiln/errors';

/**
 * How an output file is written:
 * - `replace`: nothing or a regular file is there; written to a temp file beside it and renamed
 *   into place, so a reader never sees half a file and a failed write leaves the old one.
 * - `through`: a device, a fifo, or a symlink; opened and written as a shell's `>` would. A symlink
 *   is written through to its target, never replaced: `/dev/stdout` and `/dev/fd/N` are symlinks,
 *   and resolving one to rename over its target would detach a file another process holds open.
 */
export type OutputTarget = { kind: 'replace'; path: string } | { kind: 'through'; path: string };

/** The refusal every output-path problem becomes: one line naming the flag and the path, exit 2. */
export function outputPathError(flag: string, path: string, problem: string, cause?: unknown): KilnError {
  return new KilnError('OUTPUT_PATH_INVALID', `${flag} ${path}: ${problem}`, {
    hint: 'name a file in an existing directory (a device, a fifo or a symlink to one is written through)',
    exitCode: 2,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Where and how an output file at `path` will be written; refuses what cannot be (see `OutputTarget`). */
export async function resolveOutputTarget(flag: string, path: string): Promise<OutputTarget> {
  const fail = (problem: string, cause?: unknown) => outputPathError(flag, path, problem, cause);
  if (path === '') throw fail('is empty');
  if (path.endsWith('/')) throw fail('names a directory; a file is expected');
  const absolute = resolve(path);
  const link = await lstat(absolute).catch((error: NodeJS.ErrnoException) => error);
  if (link instanceof Error) {
    if (link.code !== 'ENOENT' && link.code !== 'ENOTDIR') throw fail(reason(link), link);
    await checkParent(absolute, fail);
    return { kind: 'replace', path: absolute };
  }
  if (link.isDirectory()) throw fail('is a directory; a file is expected');
  if (link.isFile()) return { kind: 'replace', path: absolute };
  if (link.isSocket()) throw fail('is a socket, which cannot be opened for writing');
  if (link.isSymbolicLink()) {
    const target = await stat(absolute).catch((error: NodeJS.ErrnoException) => error);
    if (target instanceof Error)
      throw fail(
        target.code === 'ENOENT'
          ? 'is a symlink to nothing'
          : `is a symlink that cannot be followed (${reason(target)})`,
        target,
      );
    if (target.isDirectory()) throw fail('is a symlink to a directory; a file is expected');
    if (target.isSocket()) throw fail('is a symlink to a socket, which cannot be opened for writing');
  }
  // Character and block devices, fifos, and symlinks to anything but a directory or a socket.
  return { kind: 'through', path: absolute };
}

/** An output directory (`--oci-layout-path`): missing (then created) or a directory, in an existing one. */
export async function checkOutputDirectory(flag: string, path: string): Promise<void> {
  const fail = (problem: string, cause?: unknown) => outputPathError(flag, path, problem, cause);
  if (path === '') throw fail('is empty');
  const absolute = resolve(path);
  const found = await stat(absolute).catch((error: NodeJS.ErrnoException) => error);
  if (!(found instanceof Error)) {
    if (!found.isDirectory()) throw fail('exists and is not a directory');
    return;
  }
  if (found.code !== 'ENOENT' && found.code !== 'ENOTDIR') throw fail(reason(found), found);
  // Missing parents are made when the layout is written, as Kaniko's does (MkdirAll): only the
  // nearest existing ancestor must be a directory.
  let ancestor = dirname(absolute);
  for (;;) {
    const info = await stat(ancestor).catch((error: NodeJS.ErrnoException) => error);
    if (!(info instanceof Error)) {
      if (!info.isDirectory()) throw fail(`${ancestor} is not a directory`);
      return;
    }
    if (info.code !== 'ENOENT') throw fail(reason(info), info);
    ancestor = dirname(ancestor);
  }
}

async function checkParent(
  absolute: string,
  fail: (problem: string, cause?: unknown) => KilnError,
): Promise<void> {
  const parent = dirname(absolute);
  const found = await stat(parent).catch((error: NodeJS.ErrnoException) => error);
  if (found instanceof Error)
    throw fail(found.code === 'ENOENT' ? `directory ${parent} does not exist` : reason(found), found);
  if (!found.isDirectory()) throw fail(`${parent} is not a directory`);
}

function reason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symlinks';
    case 'ENAMETOOLONG':
      return 'name too long';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    default:
      return error.code ?? error.message;
  }
}
