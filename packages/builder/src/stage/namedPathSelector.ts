import { posix } from 'node:path';
import type { TarReadHeader } from '@kiln/layer';

/** A selection that cannot be trusted to hold what the paths name: the caller extracts everything. */
export class SelectionIncomplete extends Error {}

/** A path a COPY reads (relative to the root, no leading `/`, wildcard-free). */
export interface NamedPath {
  path: string;
  /** Cut at a wildcard: the copy reads what the pattern matches below `path`, following links. */
  wildcard: boolean;
}

/**
 * Which layer entries a reader of `paths` needs: each path, everything under it, and the directories
 * leading to it. A symlink on the way to a path (which the reader would follow), a symlink below a
 * path cut at a wildcard (a match is followed too) or a hard link from inside to outside the
 * selection throws SelectionIncomplete, since the selection would then miss what the full tree holds.
 */
export function namedPathSelector(named: NamedPath[]): (path: string, header: TarReadHeader) => boolean {
  const paths = named.map(({ path }) => path);
  const globbed = named.filter(({ wildcard }) => wildcard).map(({ path }) => path);
  const below = (prefixes: string[], path: string) =>
    prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  const under = (path: string) => below(paths, path);
  const leadsTo = (path: string) => paths.some((named) => named === path || named.startsWith(`${path}/`));
  return (path, header) => {
    const onTheWay = leadsTo(path);
    if (onTheWay && header.type === 'symlink') throw new SelectionIncomplete(`"${path}" is a symlink`);
    if (header.type === 'symlink' && below(globbed, path))
      throw new SelectionIncomplete(`"${path}" is a symlink a wildcard may match`);
    if (header.type === 'hardlink' && (onTheWay || under(path))) {
      const target = posix.normalize(`/${header.linkname}`).slice(1);
      if (!under(target)) throw new SelectionIncomplete(`"${path}" links to "${target}"`);
    }
    return onTheWay || under(path);
  };
}

/**
 * The literal paths a COPY's source words name in another tree, up to their first wildcard, or
 * undefined when that is not known before the copy expands them (variables, quotes, escapes,
 * --parents) or a word names the whole root.
 */
export function literalSourcePaths(
  sources: string[],
  escapeChar: string,
  parents: boolean,
): NamedPath[] | undefined {
  if (parents) return undefined;
  const paths: NamedPath[] = [];
  for (const word of sources) {
    if (/[$"'\\`]/.test(word) || word.includes(escapeChar) || word.startsWith('<<')) return undefined;
    const literal: string[] = [];
    let wildcard = false;
    for (const part of posix.normalize(`/${word}`).split('/')) {
      if (part === '') continue;
      if (/[*?[]/.test(part)) {
        wildcard = true;
        break;
      }
      literal.push(part);
    }
    if (literal.length === 0) return undefined;
    paths.push({ path: literal.join('/'), wildcard });
  }
  return paths.length > 0 ? paths : undefined;
}
