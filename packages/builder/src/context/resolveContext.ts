import { existsSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { KilnError } from '@kiln/errors';
import { resolveInRootSync } from '@kiln/layer';
import { displayUrl } from './contextErrors.ts';
import { gcsDownload } from './gcsDownload.ts';
import type { GitContextOptions } from './gitContext.ts';
import { httpDownload } from './httpDownload.ts';
import { s3Download } from './s3Download.ts';
import { defaultMaxContextBytes, streamToFile } from './streamToFile.ts';
import { unpackContext } from './unpackContext.ts';

export interface ContextOptions {
  /** Kaniko's `--context-sub-path`: the context is this directory inside what the source holds. */
  subPath?: string;
  /** Kaniko's `--git` options for `git://` contexts. */
  git?: GitContextOptions;
  /** Relative paths resolve against this; default the process's. */
  cwd?: string;
  /** `tar://stdin` (and `-`) read this; default the process's stdin. */
  stdin?: NodeJS.ReadableStream;
  /** `S3_ENDPOINT`, `GIT_PULL_METHOD`, credentials …; default the process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Largest download accepted (default 8 GiB). */
  maxBytes?: number;
  signal?: AbortSignal;
}

/** The schemes Kaniko takes, plus Kiln's `-` for a tarball on stdin. */
const remoteSchemes = new Set(['https', 'http', 'git', 's3', 'gs']);

/**
 * The context directory for `--context`, from any source Kaniko takes: a directory (`dir://`
 * optional) is used in place and never modified; `tar://PATH`, `tar://stdin` (or `-`), `https://…`,
 * `s3://…` and `gs://…` tarballs are fetched into the work dir and unpacked there by Kiln's confined
 * extractor; `git://…` is cloned there. `subPath` then picks a directory inside.
 */
export async function resolveContext(
  text: string,
  workDir: string,
  options: ContextOptions = {},
): Promise<string> {
  const root = await resolveContextRoot(text, workDir, options);
  if (options.subPath === undefined || options.subPath === '') return root;
  // Inside the context as a chroot would see it: neither `..` nor the context's own links lead out.
  const dir = resolveInRootSync(root, options.subPath);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new KilnError(
      'CONTEXT_NOT_FOUND',
      `--context-sub-path ${options.subPath}: no such directory in the context`,
      {
        exitCode: 2,
      },
    );
  }
  return dir;
}

async function resolveContextRoot(text: string, workDir: string, options: ContextOptions): Promise<string> {
  const env = options.env ?? process.env;
  const maxBytes = options.maxBytes ?? defaultMaxContextBytes;
  const unpacked = join(workDir, 'context');
  const download = join(workDir, 'context.tar.gz');
  await mkdir(workDir, { recursive: true });
  const scheme = text === '-' ? 'stdin' : /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'stdin' || text === 'tar://stdin') {
    await streamToFile(options.stdin ?? process.stdin, download, 'stdin', maxBytes, options.signal);
    await unpackContext(download, unpacked, 'from stdin');
    return unpacked;
  }
  if (scheme !== undefined && remoteSchemes.has(scheme)) {
    if (scheme === 'git') {
      // The git client loads only for git contexts, as the cloud SDKs do for theirs.
      const { cloneGitContext } = await import('./gitContext.ts');
      await cloneGitContext(text, unpacked, workDir, options.git ?? {}, env);
      return unpacked;
    }
    if (scheme === 's3') await s3Download(text, download, maxBytes, env, options.signal);
    else if (scheme === 'gs') await gcsDownload(text, download, maxBytes, options.signal);
    else await httpDownload(text, download, maxBytes, options.signal);
    await unpackContext(download, unpacked, displayUrl(text));
    await rm(download, { force: true });
    return unpacked;
  }
  if (scheme !== undefined && scheme !== 'dir' && scheme !== 'tar') {
    throw new KilnError(
      'UNSUPPORTED_CONTEXT',
      `--context ${displayUrl(text)}: ${scheme}:// contexts are not supported`,
      {
        hint: 'use a directory, dir://, tar://, https://, git://, s3:// or gs://',
        exitCode: 2,
      },
    );
  }
  const path = resolve(
    options.cwd ?? process.cwd(),
    scheme === undefined ? text : text.slice(scheme.length + 3),
  );
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new KilnError('CONTEXT_NOT_FOUND', `build context ${path} does not exist`);
  }
  if (info.isDirectory()) {
    if (scheme === 'tar') throw new KilnError('CONTEXT_NOT_TAR', `--context tar://${path} is a directory`);
    return path;
  }
  if (scheme === 'tar' || /\.(tar|tar\.gz|tgz)$/i.test(path)) {
    await unpackContext(path, unpacked, path);
    return unpacked;
  }
  throw new KilnError('CONTEXT_NOT_DIR', `build context ${path} is neither a directory nor a tarball`);
}

/**
 * The Dockerfile path as Kaniko finds it: absolute as given; relative to the working directory
 * when it exists there, else relative to the context; default `<context>/Dockerfile`. A path that
 * lies in the context is resolved inside it as a chroot would: the context's own links are
 * untrusted, so a `Dockerfile -> /etc/shadow` there never reads the host's file. A path the user
 * names outside the context is theirs to name.
 */
export function resolveDockerfilePath(
  dockerfile: string | undefined,
  contextDir: string,
  cwd = process.cwd(),
): string {
  const inContext = (path: string): string => {
    const inside = relative(contextDir, path);
    if (inside === '..' || inside.startsWith('../') || isAbsolute(inside)) return path;
    const resolved = resolveInRootSync(contextDir, inside);
    if (resolved !== path && !existsSync(resolved)) {
      // Named as given: the link's target is the context's text, and may spell a host path.
      throw new KilnError(
        'DOCKERFILE_NOT_FOUND',
        `cannot read Dockerfile ${path}: it links to nothing in the context`,
        {
          hint: 'a Dockerfile in the context may link only to a file inside the context',
        },
      );
    }
    return resolved;
  };
  if (dockerfile === undefined) return inContext(join(contextDir, 'Dockerfile'));
  if (isAbsolute(dockerfile)) return inContext(dockerfile);
  const fromCwd = resolve(cwd, dockerfile);
  if (existsSync(fromCwd)) return inContext(fromCwd);
  return inContext(resolve(contextDir, dockerfile));
}
