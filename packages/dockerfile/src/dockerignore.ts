import { cleanPath } from './cleanPath.ts';

/**
 * Reads a `.dockerignore` as Docker does (moby/patternmatcher's ignorefile): `#` comment lines and
 * blank lines skipped, whitespace trimmed, paths cleaned, a leading `/` dropped, `!` kept as prefix.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  for (const rawLine of body.split(/\r?\n/)) {
    if (rawLine.startsWith('#')) continue;
    let pattern = rawLine.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}
