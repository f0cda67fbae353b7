import * as fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import git, { type HttpClient } from 'isomorphic-git';
import { displayUrl, fetchFailed } from './contextErrors.ts';
import { gitHttpClient } from './gitHttp.ts';
import { parseGitModules, resolveSubmoduleUrl } from './gitModules.ts';
import { type SubmoduleResolver, writeGitTree } from './gitTreeWriter.ts';
import { contextDispatcher } from './httpClient.ts';

/** Kaniko's `--git` options. */
export interface GitContextOptions {
  /** A branch, else a tag, of that name (Kaniko's `branch=`). */
  branch?: string;
  singleBranch?: boolean;
  recurseSubmodules?: boolean;
  insecureSkipTls?: boolean;
}

/** go-git's default submodule recursion depth, which Kaniko uses. */
const maxSubmoduleDepth = 10;

/**
 * `git://HOST/REPO[#REF[#COMMIT]]` as Kaniko reads it: cloned over `$GIT_PULL_METHOD` (`https`, or
 * `http`), with `GIT_USERNAME`/`GIT_PASSWORD` or `GIT_TOKEN`; REF a reference name
 * (`refs/heads/dev`), `--git branch=` a branch or tag; COMMIT checked out after the clone. The files
 * are written into `dir` by Kiln itself (see `writeGitTree`); the repository stays beside it, so the
 * context holds no `.git` (as BuildKit's git contexts; Kaniko leaves it in).
 */
export async function cloneGitContext(
  context: string,
  dir: string,
  workDir: string,
  options: GitContextOptions,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const [location = '', refPart, commitPart] = context.slice('git://'.length).split('#');
  const method = env.GIT_PULL_METHOD === 'http' ? 'http' : 'https';
  const url = `${method}://${location}`;
  const dispatcher = contextDispatcher({ insecureSkipTls: Boolean(options.insecureSkipTls) });
  const http = gitHttpClient(dispatcher);
  const onAuth = gitAuth(env);
  let clones = 0;
  const clone = async (cloneUrl: string, ref: string | undefined, singleBranch: boolean): Promise<string> => {
    const gitdir = join(workDir, 'git', String(clones++));
    await mkdir(gitdir, { recursive: true });
    try {
      await git.clone({
        fs,
        http,
        dir: gitdir,
        gitdir,
        url: cloneUrl,
        noCheckout: true,
        singleBranch,
        ...(ref === undefined ? {} : { ref }),
        ...(onAuth ? { onAuth } : {}),
      });
    } catch (error) {
      throw fetchFailed(cloneUrl, gitReason(error), error);
    }
    return gitdir;
  };
  try {
    let ref = refPart === undefined || refPart === '' ? undefined : shortRef(refPart);
    if (options.branch) ref = await branchOrTag(http, url, options.branch, onAuth);
    const gitdir = await clone(url, ref, Boolean(options.singleBranch));
    const commit = await commitOf(gitdir, commitPart || 'HEAD', url);
    const submodules = options.recurseSubmodules
      ? submoduleResolver(gitdir, commit.oid, url, clone, 1)
      : undefined;
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await writeGitTree(gitdir, commit.tree, dir, submodules);
  } finally {
    await dispatcher.close();
  }
}

type Clone = (url: string, ref: string | undefined, singleBranch: boolean) => Promise<string>;

/** Gitlinks of a commit resolved through its `.gitmodules`, cloned on demand (each URL once). */
function submoduleResolver(
  gitdir: string,
  commitOid: string,
  url: string,
  clone: Clone,
  depth: number,
): SubmoduleResolver {
  let modules: Promise<Map<string, string>> | undefined;
  return async (path, commit) => {
    modules ??= readGitModules(gitdir, commitOid, url);
    const moduleUrl = (await modules).get(path);
    if (moduleUrl === undefined) return undefined;
    const subdir = await clone(moduleUrl, undefined, false);
    const resolved = await commitOf(subdir, commit, moduleUrl);
    return {
      gitdir: subdir,
      tree: resolved.tree,
      ...(depth < maxSubmoduleDepth
        ? { submodules: submoduleResolver(subdir, resolved.oid, moduleUrl, clone, depth + 1) }
        : {}),
    };
  };
}

async function readGitModules(gitdir: string, commit: string, url: string): Promise<Map<string, string>> {
  try {
    const { blob } = await git.readBlob({ fs, gitdir, oid: commit, filepath: '.gitmodules' });
    const modules = parseGitModules(Buffer.from(blob).toString('utf8'));
    return new Map(modules.map((m) => [m.path, resolveSubmoduleUrl(m.url, url)]));
  } catch {
    return new Map();
  }
}

async function commitOf(gitdir: string, name: string, url: string): Promise<{ oid: string; tree: string }> {
  try {
    const oid = /^[0-9a-f]{4,39}$/i.test(name)
      ? await git.expandOid({ fs, gitdir, oid: name.toLowerCase() })
      : await git.resolveRef({ fs, gitdir, ref: name });
    const { commit } = await git.readCommit({ fs, gitdir, oid });
    return { oid, tree: commit.tree };
  } catch (error) {
    throw new KilnError(
      'CONTEXT_FETCH_FAILED',
      `git context ${displayUrl(url)}: no commit ${name} in what was cloned`,
      {
        hint: 'check the commit after the second # (and that its branch is cloned: single-branch=false)',
        cause: error,
      },
    );
  }
}

/** Kaniko's `--git branch=`: `refs/heads/NAME` if the server has it, else `refs/tags/NAME`, else an error. */
async function branchOrTag(
  http: HttpClient,
  url: string,
  name: string,
  onAuth: ReturnType<typeof gitAuth>,
): Promise<string> {
  let refs: { ref: string }[];
  try {
    refs = await git.listServerRefs({ http, url, ...(onAuth ? { onAuth } : {}) });
  } catch (error) {
    throw fetchFailed(url, gitReason(error), error);
  }
  const names = new Set(refs.map((r) => r.ref));
  if (names.has(`refs/heads/${name}`) || names.has(`refs/tags/${name}`)) return name;
  throw new KilnError('CONTEXT_FETCH_FAILED', `git context ${displayUrl(url)}: no branch or tag ${name}`, {
    hint: 'check --git branch=',
    exitCode: 2,
  });
}

function shortRef(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, '');
}

function gitAuth(env: NodeJS.ProcessEnv): (() => { username: string; password: string }) | undefined {
  const token = env.GIT_TOKEN;
  const username = token || env.GIT_USERNAME || '';
  const password = token ? '' : env.GIT_PASSWORD || '';
  if (username === '' && password === '') return undefined;
  return () => ({ username, password });
}

export function gitReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const data = (error as { data?: { statusCode?: number; statusMessage?: string } }).data;
  if (data?.statusCode) return `the server answered ${data.statusCode} ${data.statusMessage ?? ''}`.trim();
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
