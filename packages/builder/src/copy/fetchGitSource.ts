import * as fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { KilnError } from '@kiln/errors';
import git, { type ServerRef } from 'isomorphic-git';
import { displayUrl } from '../context/contextErrors.ts';
import { gitReason } from '../context/gitContext.ts';
import { gitHttpClient } from '../context/gitHttp.ts';
import { writeGitTree } from '../context/gitTreeWriter.ts';
import { contextDispatcher } from '../context/httpClient.ts';
import type { GitSource } from './gitSource.ts';

/**
 * The commit a git source names, asked of the server (ls-remote, as BuildKit) without cloning: it
 * is the step's cache key, so a cache hit downloads nothing. A full commit hash is its own answer.
 */
export async function resolveGitSourceCommit(
  source: GitSource,
  where: string,
  signal?: AbortSignal,
): Promise<string> {
  const shown = checkFetchable(source, where);
  const ref = source.ref;
  if (ref !== undefined && isCommitHash(ref)) return ref.toLowerCase();
  const dispatcher = contextDispatcher();
  try {
    signal?.throwIfAborted();
    let refs: ServerRef[];
    try {
      refs = await git.listServerRefs({
        http: gitHttpClient(dispatcher),
        url: source.url,
        // v1's ref advertisement is one GET: a cache hit then sends git-upload-pack nothing at all.
        protocolVersion: 1,
        symrefs: true,
        peelTags: true,
      });
    } catch (error) {
      throw new KilnError(
        'ADD_GIT_FAILED',
        `${where}: cannot list the refs of ${shown}: ${gitReason(error)}`,
        {
          cause: error,
        },
      );
    }
    // Tags first, then branches, as the clone resolves them; an annotated tag's commit is `peeled`.
    const names = ref === undefined ? ['HEAD'] : [`refs/tags/${ref}`, `refs/heads/${ref}`, ref];
    for (const name of names) {
      const found = refs.find((candidate) => candidate.ref === name);
      if (found) return found.peeled ?? found.oid;
    }
    throw noRef(where, shown, ref ?? 'HEAD');
  } finally {
    await dispatcher.close();
  }
}

/**
 * ADD of a git source: clones `ref` (branch, tag or commit) into `gitdir` with the git contexts'
 * client, and writes the tree (or its `subdir`) of `commit` (from `resolveGitSourceCommit`) into
 * the empty `dir` with Kiln's own tree writer, never a checkout.
 */
export async function fetchGitSource(
  source: GitSource,
  commit: string,
  dir: string,
  gitdir: string,
  where: string,
  signal?: AbortSignal,
): Promise<void> {
  const shown = checkFetchable(source, where);
  const ref = source.ref;
  const isCommit = ref !== undefined && isCommitHash(ref);
  await mkdir(gitdir, { recursive: true });
  const dispatcher = contextDispatcher();
  try {
    signal?.throwIfAborted();
    try {
      await git.clone({
        fs,
        http: gitHttpClient(dispatcher),
        dir: gitdir,
        gitdir,
        url: source.url,
        noCheckout: true,
        noTags: ref === undefined,
        // A named ref needs only its own history's tip; a commit may be anywhere, so all of it.
        singleBranch: !isCommit,
        ...(isCommit ? {} : { depth: 1 }),
        ...(ref === undefined || isCommit ? {} : { ref }),
      });
    } catch (error) {
      if ((error as { code?: string }).code === 'NotFoundError' && ref !== undefined && !isCommit) {
        throw noRef(where, shown, ref, error);
      }
      throw new KilnError('ADD_GIT_FAILED', `${where}: cannot clone ${shown}: ${gitReason(error)}`, {
        cause: error,
      });
    }
    signal?.throwIfAborted();
    const cloned = await resolveCommit(gitdir, ref, isCommit, where, shown);
    // The cache key named `commit`: a branch that moved since then must not fill it with another.
    if (cloned !== commit) {
      throw new KilnError('ADD_GIT_FAILED', `${where}: ${shown} moved while the build fetched it`, {
        hint: 'build again, or pin the source to a commit (#<commit hash>)',
      });
    }
    const tree = await subdirTree(gitdir, commit, source.subdir, where, shown);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await writeGitTree(gitdir, tree, dir);
  } finally {
    await dispatcher.close();
  }
}

/** The URL as messages show it; refuses the protocols isomorphic-git cannot speak. */
function checkFetchable(source: GitSource, where: string): string {
  const shown = displayUrl(source.url);
  // isomorphic-git speaks git's smart HTTP only; the executor has no git binary for the rest.
  if (!/^https?:\/\//i.test(source.url)) {
    throw new KilnError(
      'UNSUPPORTED_ADD_SOURCE',
      `${where}: ADD of git source ${shown} needs the git or ssh protocol, and Kiln fetches git over http(s) only`,
      { hint: 'use the https:// URL of the repository', exitCode: 2 },
    );
  }
  return shown;
}

function isCommitHash(ref: string): boolean {
  return /^[0-9a-f]{40}$/i.test(ref);
}

async function resolveCommit(
  gitdir: string,
  ref: string | undefined,
  isCommit: boolean,
  where: string,
  shown: string,
): Promise<string> {
  const candidates =
    ref === undefined
      ? ['HEAD']
      : isCommit
        ? [ref.toLowerCase()]
        : [`refs/tags/${ref}`, `refs/remotes/origin/${ref}`, ref];
  for (const candidate of candidates) {
    try {
      let oid = isCommit ? candidate : await git.resolveRef({ fs, gitdir, ref: candidate });
      // An annotated tag names a tag object: peel it to its commit.
      for (let depth = 0; depth < 10; depth++) {
        const object = await git.readObject({ fs, gitdir, oid, format: 'parsed' });
        if (object.type === 'commit') return oid;
        if (object.type !== 'tag') break;
        oid = (object.object as { object: string }).object;
      }
    } catch {
      // try the next name
    }
  }
  throw noRef(where, shown, ref ?? 'HEAD');
}

/** The tree of `subdir`, walked through tree entries only, so a symlink in the repository leads nowhere. */
async function subdirTree(
  gitdir: string,
  commit: string,
  subdir: string | undefined,
  where: string,
  shown: string,
): Promise<string> {
  const path = posix.normalize(`/${subdir ?? ''}`).replace(/^\/+|\/+$/g, '');
  if (path === '') return (await git.readCommit({ fs, gitdir, oid: commit })).commit.tree;
  try {
    return (await git.readTree({ fs, gitdir, oid: commit, filepath: path })).oid;
  } catch (error) {
    // isomorphic-git refuses a tree holding `.git`, `..` or `/` names on the way down.
    if ((error as { code?: string }).code === 'UnsafeFilepathError') {
      throw new KilnError('LAYER_UNSAFE_PATH', `${where}: ${shown} holds a path git refuses to check out`, {
        hint: 'the repository may be malicious',
        cause: error,
      });
    }
    throw new KilnError(
      'ADD_GIT_FAILED',
      `${where}: ${shown} has no directory "${subdir}" at commit ${commit.slice(0, 12)}`,
      {
        hint: 'the part after ":" in #ref:subdir names a directory of the repository',
        exitCode: 2,
        cause: error,
      },
    );
  }
}

function noRef(where: string, shown: string, ref: string, cause?: unknown): KilnError {
  return new KilnError('ADD_GIT_FAILED', `${where}: ${shown} has no branch, tag or commit "${ref}"`, {
    hint: 'check the ref after # in the ADD source',
    exitCode: 2,
    ...(cause === undefined ? {} : { cause }),
  });
}
