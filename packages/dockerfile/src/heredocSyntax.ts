import type { Heredoc } from './ast.ts';
import { expandWords } from './expandWord.ts';

/** A heredoc announced on an instruction line; its body is read from the lines that follow. */
export type HeredocMarker = Omit<Heredoc, 'content' | 'startLine' | 'endLine'>;

// Whitespace between `<<` and the name is allowed (BuildKit 0.22+): `<< EOF`, `<< -EOF` (named -EOF).
const heredocWord = /^(\d*)<<(-?)\s*([^<]*)$/;

/**
 * The heredocs a RUN, COPY or ADD line announces, in order. Like BuildKit, the line is cut into
 * shell words (quotes kept, escape always backslash) and each word matching `[n]<<[-]NAME` counts.
 */
export function findHeredocMarkers(line: string): HeredocMarker[] {
  if (!line.includes('<<')) return [];
  const markers: HeredocMarker[] = [];
  for (const word of rawShellWords(line)) {
    const match = heredocWord.exec(word);
    if (match === null) continue;
    const rest = match[3]!;
    if (rest === '') continue;
    let names: string[];
    try {
      // Unset variables stay as written, as BuildKit's SkipUnsetEnv does.
      names = expandWords(rest, (name) => `$${name}`);
    } catch {
      continue;
    }
    if (names.length !== 1) continue;
    const marker: HeredocMarker = {
      name: names[0]!,
      expand: !hasUnescapedQuote(rest),
      chomp: match[2] === '-',
    };
    if (match[1] !== '') marker.fileDescriptor = Number(match[1]);
    markers.push(marker);
  }
  return markers;
}

/** The heredoc a COPY/ADD source word names (`<<EOF`, `<<"END-OF"`, `<<-EOT`), if it is one. */
export function heredocNameOf(word: string): string | undefined {
  const markers = findHeredocMarkers(word);
  return markers.length === 1 && isLoneHeredoc(word) ? markers[0]!.name : undefined;
}

/**
 * Whether a RUN command is nothing but one heredoc (`<<EOF`, `<<-"EOF"`, `3<< EOF`). BuildKit runs
 * such a body itself (as the script, or as a file when it starts with `#!`); any other command
 * with heredocs goes to the shell with the bodies appended.
 */
export function isLoneHeredoc(command: string): boolean {
  const match = heredocWord.exec(command.trim());
  if (match === null || match[3] === '') return false;
  return rawShellWords(match[3]!).length === 1;
}

function hasUnescapedQuote(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') i++;
    else if (ch === '"' || ch === "'") return true;
  }
  return false;
}

/** Shell words with quotes and escapes left in; an unterminated quote yields no words (BuildKit ignores the error). */
function rawShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote !== '') {
      word += ch;
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    word += ch;
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '\\' && i + 1 < line.length) word += line[++i];
    else if (ch === '<' && line[i + 1] === '<') {
      // `<<` keeps the whitespace after it in the same word, so `<< EOF` stays one word.
      word += line[++i];
      while (i + 1 < line.length && /\s/.test(line[i + 1]!)) word += line[++i];
    }
  }
  if (quote !== '') return [];
  if (inWord) words.push(word);
  return words;
}

/** `<<-` bodies lose the leading tabs of every line. */
export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, '');
}
