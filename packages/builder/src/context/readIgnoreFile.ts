import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { createIgnoreMatcher, parseDockerignore } from '@kiln/dockerfile';
import { resolveInRoot } from '../stage/resolveInRoot.ts';

/**
 * Relative context path and whether it is a directory → left out of the context. With
 * `whenEmpty`, for a directory already walked: whether it is itself ignored, so it is dropped
 * unless something below it was kept.
 */
export type ContextIgnore = (relativePath: string, isDir: boolean, whenEmpty?: boolean) => boolean;

/**
 * The context's ignore rules as BuildKit reads them: `<Dockerfile>.dockerignore` beside the
 * Dockerfile when it exists, else the context's `.dockerignore`. A directory counts as left out
 * only when no `!` exception could re-include something below it, so a walk that skips what this
 * says still reaches `logs/keep.log` under an ignored `logs/` (Docker sends it).
 */
export async function readContextIgnore(contextDir: string, dockerfilePath?: string): Promise<ContextIgnore> {
  const text =
    (dockerfilePath === undefined
      ? undefined
      : await readOptional(await besideDockerfile(contextDir, dockerfilePath))) ??
    // Inside the context: a `.dockerignore` link is followed as the context's root would see it.
    (await readOptional(await resolveInRoot(contextDir, '.dockerignore')));
  if (text === undefined) return () => false;
  const matcher = createIgnoreMatcher(parseDockerignore(text));
  return (path, isDir, whenEmpty = false) =>
    isDir && !whenEmpty ? matcher.canSkipDirectory(path) : matcher.ignores(path);
}

/**
 * `<Dockerfile>.dockerignore`: resolved inside the context when the Dockerfile is in it (the
 * context's links are untrusted); beside a Dockerfile the user named outside it, taken as named.
 */
async function besideDockerfile(contextDir: string, dockerfilePath: string): Promise<string> {
  const path = join(dirname(dockerfilePath), `${basename(dockerfilePath)}.dockerignore`);
  const inside = relative(contextDir, path);
  if (inside === '..' || inside.startsWith('../') || isAbsolute(inside)) return path;
  return resolveInRoot(contextDir, inside);
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}
