/**
 * The ways BuildKit's parser cuts an instruction's arguments: a JSON array (exec form), words split
 * on whitespace, quote-aware words (ENV, LABEL, ARG) and `key value` / `key=value …` pairs.
 */
import type { KeyValue } from './ast.ts';

export type JsonArrayResult =
  | { kind: 'array'; values: string[] }
  | { kind: 'not-json' }
  | { kind: 'not-strings' };

/**
 * A JSON array of strings, or why not: malformed JSON falls back to shell form, other arrays are
 * errors. Like BuildKit's streaming decoder, text after the array's closing bracket is ignored.
 */
export function parseJsonArray(rest: string): JsonArrayResult {
  const text = rest.trimStart();
  if (!text.startsWith('[')) return { kind: 'not-json' };
  let parsed = parseJsonOrUndefined(text);
  if (parsed === undefined) {
    // Only when the whole text is not JSON: look for a valid array followed by other text.
    const end = endOfJsonValue(text);
    if (end < 0 || end === text.length) return { kind: 'not-json' };
    parsed = parseJsonOrUndefined(text.slice(0, end));
  }
  if (!Array.isArray(parsed)) return { kind: 'not-json' };
  if (!parsed.every((value) => typeof value === 'string')) return { kind: 'not-strings' };
  return { kind: 'array', values: parsed as string[] };
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Where the bracketed JSON value at the start of `text` ends (exclusive), or -1 if it does not. */
function endOfJsonValue(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
    } else if (ch === '[' || ch === '{') {
      depth++;
    } else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const whitespaceRun = /[\t\v\f\r ]+/;

export function splitOnWhitespace(rest: string): string[] {
  return rest === '' ? [] : rest.split(whitespaceRun);
}

export function isGoSpace(ch: string): boolean {
  const code = ch.charCodeAt(0);
  // ASCII fast path; the regexp only for the rare non-ASCII character.
  return code === 32 || (code >= 9 && code <= 13) || (code > 127 && /^\s$/u.test(ch));
}

/** Quote-aware words with quotes and escapes kept (BuildKit's `parseWords`); a trailing escape is dropped. */
export function parseWords(rest: string, escapeChar: string): string[] {
  // Without quotes or escapes the words are just the whitespace-separated runs.
  if (!rest.includes('"') && !rest.includes("'") && !rest.includes(escapeChar)) {
    return rest.split(/\s+/).filter((word) => word !== '');
  }
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  // UTF-16 units are enough: no half of a surrogate pair is a space, quote or escape.
  const chars = rest;
  for (let pos = 0; pos < chars.length; pos++) {
    let ch = chars[pos]!;
    if (!inWord) {
      if (isGoSpace(ch)) continue;
      inWord = true;
    }
    if (quote === '') {
      if (isGoSpace(ch)) {
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      }
      if (ch === escapeChar) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        pos++;
        ch = chars[pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = '';
    else if (ch === escapeChar && quote !== "'") {
      if (pos + 1 === chars.length) continue;
      pos++;
      word += ch;
      ch = chars[pos]!;
    }
    word += ch;
  }
  if (inWord && (blankOk || word.length > 0)) words.push(word);
  return words;
}

export type NameValueResult =
  | { kind: 'pairs'; pairs: KeyValue[] }
  | { kind: 'missing-value'; key: string }
  | { kind: 'missing-equals'; word: string };

/**
 * ENV and LABEL: `KEY value with spaces` (legacy, one pair) when the first word has no `=`,
 * else `k=v k2="v 2" …`. Keys and values are kept raw, for expansion by the builder.
 */
export function parseNameValue(rest: string, escapeChar: string): NameValueResult {
  const words = parseWords(rest, escapeChar);
  const first = words[0];
  if (first === undefined) return { kind: 'pairs', pairs: [] };
  if (!first.includes('=')) {
    const match = /[\t\v\f\r ]+/.exec(rest);
    if (match === null) return { kind: 'missing-value', key: rest };
    return {
      kind: 'pairs',
      pairs: [{ key: rest.slice(0, match.index), value: rest.slice(match.index + match[0].length) }],
    };
  }
  const pairs: KeyValue[] = [];
  for (const word of words) {
    const equals = word.indexOf('=');
    if (equals < 0) return { kind: 'missing-equals', word };
    pairs.push({ key: word.slice(0, equals), value: word.slice(equals + 1) });
  }
  return { kind: 'pairs', pairs };
}
