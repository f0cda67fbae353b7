import { posix } from 'node:path';
import { KilnError } from '@kiln/errors';

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
