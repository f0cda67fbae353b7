import type { EscapeChar } from './ast.ts';
import { ShellExpansionError } from './shellExpansionError.ts';
import { shellPatternToRegExp, trimShellPrefix, trimShellSuffix } from './shellPattern.ts';

/** Looks a variable up in the build-time environment; undefined when unset. */
export type VariableLookup = (name: string) => string | undefined;

export interface ExpandOptions {
  /** The Dockerfile's escape character (`Dockerfile.escape`); backslash by default. */
  escape?: EscapeChar;
}

/**
 * Expands one word as BuildKit's shell lexer does: quotes removed, escapes applied with the active
 * escape character, `$VAR`, `${VAR}` and the `${VAR<modifier>…}` forms. No word splitting.
 */
export function expandWord(word: string, lookup: VariableLookup, options: ExpandOptions = {}): string {
  return new ShellWordLexer(word, lookup, options.escape ?? '\\').expand().text;
}

/**
 * Expands and splits into words the way BuildKit does for instructions that split: whitespace that
 * comes from the text or from a variable's value separates words; quoted text never splits.
 */
export function expandWords(text: string, lookup: VariableLookup, options: ExpandOptions = {}): string[] {
  return new ShellWordLexer(text, lookup, options.escape ?? '\\').expand().words;
}

/**
 * Expands a COPY/ADD heredoc body whose delimiter was not quoted, as BuildKit does: variables are
 * substituted and backslash escapes applied (`\\$` keeps a dollar), but quotes are plain text.
 * The escape character is always backslash here, whatever the Dockerfile's escape directive.
 */
export function expandHeredocContent(content: string, lookup: VariableLookup): string {
  const lexer = new ShellWordLexer(content, lookup, '\\');
  lexer.quotesArePlain = true;
  return lexer.expand().text;
}

const endOfInput = '';

/**
 * How deeply `${…}` may nest. Each level is a few stack frames; without a bound a hostile
 * `${a:-${a:-…}}` overflows the stack. Real Dockerfiles nest two or three levels.
 */
export const maxExpansionDepth = 64;

class WordCollector {
  words: string[] = [];
  word = '';
  inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(text: string): void {
    for (const ch of text) this.addChar(ch);
  }

  addRawString(text: string): void {
    this.word += text;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) this.words.push(this.word);
    return this.words;
  }
}

function isSpace(ch: string): boolean {
  const code = ch.charCodeAt(0);
  // ASCII fast path; the regexp only for the rare non-ASCII character.
  return code === 32 || (code >= 9 && code <= 13) || (code > 127 && /^\s$/u.test(ch));
}

function isAsciiDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isDigit(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return isAsciiDigit(code) || (code > 127 && /^\p{Nd}$/u.test(ch));
}

function isNameChar(ch: string): boolean {
  const code = ch.charCodeAt(0);
  if (code < 128)
    return isAsciiDigit(code) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
  return /^[\p{L}\p{Nd}]$/u.test(ch);
}

class ShellWordLexer {
  readonly text: string;
  /** Position in UTF-16 units; `peek` and `next` deal in whole code points. */
  pos = 0;
  readonly lookup: VariableLookup;
  readonly escape: string;
  /** BuildKit's SkipProcessQuotes, for heredoc bodies. */
  quotesArePlain = false;
  /** `${` levels open around the current position. */
  depth = 0;

  constructor(text: string, lookup: VariableLookup, escapeChar: string) {
    this.text = text;
    this.lookup = lookup;
    this.escape = escapeChar;
  }

  peek(): string {
    const { text, pos } = this;
    if (pos >= text.length) return endOfInput;
    const code = text.charCodeAt(pos);
    if (code >= 0xd800 && code <= 0xdbff && pos + 1 < text.length) {
      const low = text.charCodeAt(pos + 1);
      if (low >= 0xdc00 && low <= 0xdfff) return text.slice(pos, pos + 2);
    }
    return text[pos]!;
  }

  next(): string {
    const ch = this.peek();
    this.pos += ch.length;
    return ch;
  }

  expand(): { text: string; words: string[] } {
    return this.processUntil(undefined, false);
  }

  /** Reads up to (and past) `stop`, or to the end when `stop` is undefined. */
  processUntil(stop: string | undefined, rawEscapes: boolean): { text: string; words: string[] } {
    let text = '';
    const words = new WordCollector();
    let stopped = false;
    while (this.peek() !== endOfInput) {
      const ch = this.peek();
      if (ch === stop) {
        this.next();
        stopped = true;
        break;
      }
      if (ch === '$' || (!this.quotesArePlain && (ch === "'" || ch === '"'))) {
        const piece = this.special(ch);
        text += piece;
        if (ch === '$') words.addString(piece);
        else words.addRawString(piece);
        continue;
      }
      let current = this.next();
      if (current === this.escape) {
        if (rawEscapes) {
          words.addRawChar(current);
          text += current;
        }
        current = this.next();
        if (current === endOfInput) break;
        words.addRawChar(current);
      } else {
        words.addChar(current);
      }
      text += current;
    }
    if (stop !== undefined && !stopped) {
      throw new ShellExpansionError('SHELL_BAD_SUBSTITUTION', `syntax error: missing '${stop}'`);
    }
    return { text, words: words.finish() };
  }

  special(ch: string): string {
    if (ch === '$') return this.dollar();
    return ch === "'" ? this.singleQuoted() : this.doubleQuoted();
  }

  singleQuoted(): string {
    this.next();
    let text = '';
    for (;;) {
      const ch = this.next();
      if (ch === endOfInput) {
        throw new ShellExpansionError(
          'SHELL_UNTERMINATED_QUOTE',
          'unexpected end of statement while looking for matching single-quote',
        );
      }
      if (ch === "'") return text;
      text += ch;
    }
  }

  doubleQuoted(): string {
    this.next();
    let text = '';
    for (;;) {
      const ch = this.peek();
      if (ch === endOfInput) {
        throw new ShellExpansionError(
          'SHELL_UNTERMINATED_QUOTE',
          'unexpected end of statement while looking for matching double-quote',
        );
      }
      if (ch === '"') {
        this.next();
        return text;
      }
      if (ch === '$') {
        text += this.dollar();
        continue;
      }
      let current = this.next();
      if (current === this.escape) {
        const following = this.peek();
        // A trailing escape is dropped; only ", $ and the escape itself can be escaped.
        if (following === endOfInput) continue;
        if (following === '"' || following === '$' || following === this.escape) current = this.next();
      }
      text += current;
    }
  }

  name(): string {
    let name = '';
    while (this.peek() !== endOfInput) {
      const ch = this.peek();
      if (name.length === 0 && isDigit(ch)) {
        while (this.peek() !== endOfInput && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name.length === 0 && '@*#?-$!0'.includes(ch)) return this.next();
      if (!isNameChar(ch)) break;
      name += this.next();
    }
    return name;
  }

  dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      return this.lookup(name) ?? '';
    }
    this.next();
    if (this.depth >= maxExpansionDepth) {
      throw new ShellExpansionError(
        'SHELL_EXPANSION_TOO_DEEP',
        `variable substitutions nested more than ${maxExpansionDepth} deep`,
      );
    }
    this.depth++;
    try {
      return this.braced();
    } finally {
      this.depth--;
    }
  }

  /** `${…}` after the brace. */
  braced(): string {
    const first = this.peek();
    if (first === endOfInput)
      throw new ShellExpansionError('SHELL_BAD_SUBSTITUTION', "syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') {
      throw new ShellExpansionError('SHELL_BAD_SUBSTITUTION', 'syntax error: bad substitution');
    }
    const name = this.name();
    let modifier = this.next();
    let spelled = modifier;
    let nullIsUnset = false;
    if (modifier === '}') return this.lookup(name) ?? '';
    if (modifier === ':') {
      nullIsUnset = true;
      modifier = this.next();
      spelled += modifier;
    }
    if (modifier === '/' && !nullIsUnset) return this.replacement(name);
    if (modifier === endOfInput) {
      throw new ShellExpansionError('SHELL_BAD_SUBSTITUTION', "syntax error: missing '}'");
    }
    if (!'+-?#%'.includes(modifier) || (nullIsUnset && (modifier === '#' || modifier === '%'))) {
      throw new ShellExpansionError(
        'SHELL_BAD_SUBSTITUTION',
        `unsupported modifier (${spelled}) in substitution`,
      );
    }
    let word = this.processUntil('}', modifier === '#' || modifier === '%').text;
    const value = this.lookup(name);
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (modifier) {
      case '-':
        return unset ? word : value!;
      case '+':
        return unset ? '' : word;
      case '?':
        if (unset) {
          const fallback = value === undefined ? 'is not allowed to be unset' : 'is not allowed to be empty';
          throw new ShellExpansionError(
            'SHELL_REQUIRED_VARIABLE',
            `${name}: ${word === '' ? fallback : word}`,
          );
        }
        return value!;
      default: {
        const greedy = word.startsWith(modifier);
        if (greedy) word = word.slice(1);
        return modifier === '%'
          ? trimShellSuffix(word, value ?? '', greedy)
          : trimShellPrefix(word, value ?? '', greedy);
      }
    }
  }

  replacement(name: string): string {
    const replaceAll = this.peek() === '/';
    if (replaceAll) this.next();
    const pattern = this.processUntil('/', true).text;
    const replacement = this.processUntil('}', true).text;
    const value = this.lookup(name) ?? '';
    const regexp = shellPatternToRegExp(pattern, true, false);
    if (replaceAll) {
      return value.replace(new RegExp(regexp.source, 'g'), () => replacement);
    }
    return value.replace(regexp, () => replacement);
  }
}
