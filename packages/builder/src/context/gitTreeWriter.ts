import * as fs from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import git from 'isomorphic-git';

/** A submodule's repository and tree for a gitlink at `path` (relative to its repository), or none. */
export type SubmoduleResolver = (
  path: string,
  commit: string,
) => Promise<{ gitdir: string; tree: string; submodules?: SubmoduleResolver } | undefined>;

/**
 * Writes a commit's tree into an empty `dir`, instead of isomorphic-git's checkout: a repository is
 * hostile input, and its checkout writes through a symlink the same tree made. Here every name is one
 * checked component, each directory is one this writer just created (so no path ever passes a
 * symlink), and files are created exclusively. Gitlinks become their submodule's tree when
 * `submodules` is given, else empty directories (as git leaves them uninitialised).
 */
export async function writeGitTree(
  gitdir: string,
  treeOid: string,
  dir: string,
  submodules?: SubmoduleResolver,
  prefix = '',
): Promise<void> {
  const { tree } = await git.readTree({ fs, gitdir, oid: treeOid }).catch((error: unknown) => {
    // isomorphic-git refuses `.git`, `..` and `/` in names as it reads the tree.
    const code = (error as { code?: string }).code;
    if (code === 'UnsafeFilepathError')
      throw unsafe(error instanceof Error ? error.message : String(error), error);
    throw new KilnError('CONTEXT_UNPACK_FAILED', `cannot read git tree ${treeOid}: ${String(error)}`, {
      cause: error,
    });
  });
  for (const entry of tree) {
    checkName(entry.path, prefix);
    const target = join(dir, entry.path);
    const path = prefix === '' ? entry.path : `${prefix}/${entry.path}`;
    if (entry.type === 'tree') {
      await mkdir(target, { mode: 0o755 });
      await writeGitTree(gitdir, entry.oid, target, submodules, path);
    } else if (entry.type === 'commit') {
      await mkdir(target, { mode: 0o755 });
      const sub = await submodules?.(path, entry.oid);
      if (sub) await writeGitTree(sub.gitdir, sub.tree, target, sub.submodules);
    } else {
      const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid });
      if (entry.mode === '120000') await symlink(Buffer.from(blob).toString('utf8'), target);
      else await writeFile(target, blob, { flag: 'wx', mode: entry.mode === '100755' ? 0o755 : 0o644 });
    }
  }
}

function unsafe(why: string, cause?: unknown): KilnError {
  return new KilnError('LAYER_UNSAFE_PATH', `git context refused: ${why}`, {
    hint: 'the repository holds a path git itself refuses to check out; it may be malicious',
    ...(cause === undefined ? {} : { cause }),
  });
}

function checkName(name: string, prefix: string): void {
  const plain = name !== '' && name !== '.' && name !== '..' && !/[/\0]/.test(name);
  if (!plain || name.toLowerCase() === '.git')
    throw unsafe(`tree entry "${prefix}/${name}" is not a plain file name`);
}
