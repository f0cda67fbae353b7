import { KilnError } from '@kiln/errors';
import { cleanPath } from './cleanPath.ts';

export interface IgnoreMatcher {
  /** Whether a path (relative to the context, `/`-separated) is excluded from the context. */
  ignores: (path: string) => boolean;
  /**
   * Whether a walker may skip an ignored directory without looking inside: false when some `!`
   * exception might re-include a path below it.
   */
  canSkipDirectory: (dir: string) => boolean;
}

interface CompiledPattern {
  exclusion: boolean;
  regexp: RegExp;
  parts: string[];
}

/**
 * Docker's `.dockerignore` semantics (moby/patternmatcher): Go `filepath.Match` wildcards per
 * component, `**` for any number of components, a pattern also ignores everything below what it
 * matches, `!` re-includes, and the last matching pattern wins.
 */
export function createIgnoreMatcher(patterns: readonly string[]): IgnoreMatcher {
  const compiled: CompiledPattern[] = [];
  for (const original of patterns) {
    let pattern = original.trim();
    if (pattern === '') continue;
    const exclusion = pattern.startsWith('!');
    if (exclusion) {
      if (pattern.length === 1) throw badPattern(original, 'a lone "!" excludes nothing');
      pattern = pattern.slice(1);
    }
    pattern = cleanPath(pattern);
    const problem = goMatchSyntaxProblem(pattern);
    if (problem !== undefined) throw badPattern(original, problem);
    compiled.push({ exclusion, regexp: patternToRegExp(pattern), parts: pattern.split('/') });
  }
  const hasExclusions = compiled.some((pattern) => pattern.exclusion);

  const ignores = (path: string): boolean => {
    const file = normalise(path);
    const slash = file.lastIndexOf('/');
    const parentDirs = slash < 0 ? [] : file.slice(0, slash).split('/');
    let matched = false;
    for (const pattern of compiled) {
      // Only a pattern that could flip the current answer needs evaluating.
      if (pattern.exclusion !== matched) continue;
      let match = pattern.regexp.test(file);
      for (let i = 0; !match && i < parentDirs.length; i++) {
        match = pattern.regexp.test(parentDirs.slice(0, i + 1).join('/'));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  };

  const canSkipDirectory = (dir: string): boolean => {
    if (!ignores(dir)) return false;
    if (!hasExclusions) return true;
    const dirParts = normalise(dir).split('/');
    return !compiled.some((pattern) => pattern.exclusion && couldMatchBelow(pattern.parts, dirParts));
  };

  return { ignores, canSkipDirectory };
}

function normalise(path: string): string {
  const cleaned = cleanPath(path);
  return cleaned.startsWith('/') ? cleaned.slice(1) || '.' : cleaned;
}

/** Conservative: true unless a component of the pattern certainly fails to match the directory. */
function couldMatchBelow(patternParts: readonly string[], dirParts: readonly string[]): boolean {
  for (let i = 0; i < dirParts.length; i++) {
    const part = patternParts[i];
    if (part === undefined) return false;
    if (part.includes('**')) return true;
    if (!patternToRegExp(part).test(dirParts[i]!)) return false;
  }
  return true;
}

function badPattern(pattern: string, problem: string): KilnError {
  return new KilnError('DOCKERIGNORE_BAD_PATTERN', `invalid .dockerignore pattern "${pattern}": ${problem}`, {
    hint: 'patterns follow Go filepath.Match: * ? [class] and \\ to escape, plus ** for any directories',
  });
}

/** The pattern-to-regexp conversion of moby/patternmatcher, for `/` separators. */
function patternToRegExp(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let source = '^';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        source += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else {
        source += '[^/]*';
      }
    } else if (ch === '?') {
      source += '[^/]';
    } else if ('.+()|{}$'.includes(ch)) {
      source += `\\${ch}`;
    } else if (ch === '\\') {
      source += i + 1 < chars.length ? `\\${chars[++i]}` : '\\\\';
    } else {
      source += ch;
    }
  }
  return new RegExp(`${source}$`, 's');
}

/** What Go's `filepath.Match` would reject: a bad character class or a trailing backslash. */
function goMatchSyntaxProblem(pattern: string): string | undefined {
  const chars = Array.from(pattern);
  let i = 0;
  const readClassChar = (): string | undefined => {
    const ch = chars[i];
    if (ch === undefined || ch === '-' || ch === ']') return undefined;
    i++;
    if (ch === '\\') {
      if (chars[i] === undefined) return undefined;
      i++;
    }
    return ch;
  };
  while (i < chars.length) {
    const ch = chars[i++]!;
    if (ch === '\\') {
      if (i >= chars.length) return 'it ends with a lone backslash';
      i++;
    } else if (ch === '[') {
      if (chars[i] === '^') i++;
      let count = 0;
      for (;;) {
        if (chars[i] === ']' && count > 0) {
          i++;
          break;
        }
        if (readClassChar() === undefined) return 'a character class [..] is malformed or not closed';
        if (chars[i] === '-') {
          i++;
          if (readClassChar() === undefined) return 'a character range in [..] is malformed';
        }
        count++;
      }
    }
  }
  return undefined;
}
