import { ShellExpansionError } from './shellExpansionError.ts';

/**
 * Longest `${VAR#p}`/`%`/`/` pattern: a regular expression of a huge one exceeds V8's size limit
 * (a `SyntaxError` at about 100,000 characters) and takes seconds to compile well before that.
 */
export const maxPatternLength = 4096;

/**
 * Shell patterns of `${VAR#p}`, `${VAR%p}` and `${VAR/p/r}` as BuildKit converts them to regular
 * expressions: `*` and `?` are wildcards, `\` escapes only `*`, `?` and `\` (and `}`/`/`, dropped).
 */
export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  if (pattern.length > maxPatternLength) {
    throw new ShellExpansionError(
      'SHELL_INVALID_PATTERN',
      `invalid pattern in substitution: longer than ${maxPatternLength} characters`,
    );
  }
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      out += greedy ? '[^\\n]*' : '[^\\n]*?';
    } else if (ch === '?') {
      out += '[^\\n]';
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next === '}' || next === '/') continue;
      if (next !== '*' && next !== '?' && next !== '\\') {
        throw new ShellExpansionError(
          'SHELL_INVALID_PATTERN',
          `invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? ''}'`,
        );
      }
      out += `\\${next}`;
      i++;
    } else if ('[]{}.+()|^$'.includes(ch)) {
      out += `\\${ch}`;
    } else {
      out += ch.replace(/[-/\\]/g, '\\$&');
    }
  }
  try {
    return new RegExp(out);
  } catch (error) {
    // What is left: the engine's own limits on a regular expression's size.
    throw new ShellExpansionError(
      'SHELL_INVALID_PATTERN',
      `invalid pattern in substitution: ${(error as Error).message}`,
    );
  }
}

export function trimShellPrefix(pattern: string, value: string, greedy: boolean): string {
  const match = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return match ? value.slice(match[0].length) : value;
}

/** A regexp cannot find the shortest rightmost match, so reverse both and trim a prefix. */
export function trimShellSuffix(pattern: string, value: string, greedy: boolean): string {
  const reversed = trimShellPrefix(reversePattern(pattern), reverseString(value), greedy);
  return reverseString(reversed);
}

function reverseString(text: string): string {
  return Array.from(text).reverse().join('');
}

/** Reverses a pattern but keeps each `\x` escape pair in order. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const units: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      units.push(`\\${chars[i + 1]}`);
      i++;
    } else {
      units.push(chars[i]!);
    }
  }
  return units.reverse().join('');
}
