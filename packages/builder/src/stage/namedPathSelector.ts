import { posix } from 'node:path';
import type { TarReadHeader } from '@kiln/layer';

/** A selection that cannot be trusted to hold what the paths name: the caller extracts everything. */
export class SelectionIncomplete extends Error {}

/**
 * Which layer entries a reader of `paths` (relative to the root, no leading `/`, wildcard-free) needs:
 * each path, everything under it, and the directories leading to it. A symlink on the way to a path
 * (which the reader would follow) or a hard link from inside to outside the selection throws
 * SelectionIncomplete, since the selection would then miss what the full tree holds.
 */
export function namedPathSelector(paths: string[]): (path: string, header: TarReadHeader) => boolean {
  const under = (path: string) => paths.some((named) => path === named || path.startsWith(`${named}/`));
  const leadsTo = (path: string) => paths.some((named) => named === path || named.startsWith(`${path}/`));
  return (path, header) => {
    const onTheWay = leadsTo(path);
    if (onTheWay && header.type === 'symlink') throw new SelectionIncomplete(`"${path}" is a symlink`);
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
): string[] | undefined {
  if (parents) return undefined;
  const paths: string[] = [];
  for (const word of sources) {
    if (/[$"'\\`]/.test(word) || word.includes(escapeChar) || word.startsWith('<<')) return undefined;
    const literal: string[] = [];
    for (const part of posix.normalize(`/${word}`).split('/')) {
      if (part === '') continue;
      if (/[*?[]/.test(part)) break;
      literal.push(part);
    }
    if (literal.length === 0) return undefined;
    paths.push(literal.join('/'));
  }
  return paths.length > 0 ? paths : undefined;
}
