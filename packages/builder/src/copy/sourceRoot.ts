import { lstat, readdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { quoteForMessage } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import { resolveInRootSync } from '@kiln/layer';

/**
 * A COPY/ADD source as a path relative to its source root (context or stage), refusing anything
 * that climbs out: Docker's "forbidden path outside the build context".
 */
export function relativeSourcePath(source: string, where: string): string {
  const normalised = posix.normalize(source.replace(/^\.\//, ''));
  if (normalised === '..' || normalised.startsWith('../')) {
    throw new KilnError('COPY_OUTSIDE_CONTEXT', `${where}: source "${source}" is outside the build context`, {
      hint: 'move the file into the context directory, or widen --context',
    });
  }
  const relative = normalised.replace(/^\/+/, '');
  return relative === '.' ? '' : relative.replace(/\/+$/, '');
}

export function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

/**
 * The paths (relative to `root`, sorted) a COPY/ADD wildcard source matches, expanded one component
 * at a time with Go's `filepath.Match` as BuildKit does (`*` matches dotfiles too; no `**`). Every
 * directory is listed through `resolveInRootSync`, so a link leaving the root is followed inside it
 * as a chroot would, never to the host.
 */
export async function expandSourceWildcard(root: string, pattern: string, where: string): Promise<string[]> {
  // No path longer than PATH_MAX exists to match; saying so beats a regexp of any size.
  if (Buffer.byteLength(pattern) > 4096) throw badPattern(pattern, where);
  let current = [''];
  for (const part of pattern.split('/').filter(Boolean)) {
    const next: string[] = [];
    const matcher = hasWildcard(part) ? componentMatcher(part, where) : undefined;
    for (const dir of current) {
      const join = (name: string) => (dir === '' ? name : `${dir}/${name}`);
      if (matcher === undefined) {
        next.push(join(part.replace(/\\(.)/g, '$1')));
        continue;
      }
      let names: string[];
      try {
        names = await readdir(resolveInRootSync(root, dir));
      } catch {
        continue;
      }
      for (const name of names) if (matcher.test(name)) next.push(join(name));
    }
    current = next;
  }
  const found: string[] = [];
  for (const path of current) {
    try {
      await lstat(resolveInRootSync(root, path));
      found.push(path);
    } catch {
      // a literal component below a match that is not there
    }
  }
  return found.sort();
}

/** One path component of a wildcard as Go's `filepath.Match` reads it. */
function componentMatcher(part: string, where: string): RegExp {
  const chars = Array.from(part);
  let source = '^';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '\\') {
      const next = chars[++i];
      if (next === undefined) throw badPattern(part, where);
      source += escapeRegExp(next);
    } else if (ch === '[') {
      const end = chars.indexOf(']', i + 2);
      if (end < 0) throw badPattern(part, where);
      let body = chars.slice(i + 1, end).join('');
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      source += `[${negate ? '^' : ''}${body.replace(/[\]\\^]/g, (c) => (c === '\\' ? '\\\\' : `\\${c}`))}]`;
      i = end;
    } else source += escapeRegExp(ch);
  }
  try {
    return new RegExp(`${source}$`, 's');
  } catch {
    throw badPattern(part, where);
  }
}

function escapeRegExp(ch: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(ch) ? `\\${ch}` : ch;
}

function badPattern(part: string, where: string): KilnError {
  // The pattern is the Dockerfile's text: quoted cut short, so a huge one stays a one-line error.
  return new KilnError(
    'COPY_INVALID_PATTERN',
    `${where}: cannot expand the wildcard source ${quoteForMessage(part)}: not a valid pattern`,
    { hint: 'wildcards follow Go filepath.Match: *, ?, [a-z], [^a-z], \\ escapes', exitCode: 2 },
  );
}
