import type { Flag, InstructionKind } from './ast.ts';

export interface FlagWord {
  /** The word with quotes and backslash escapes removed, e.g. `--from=build`. */
  text: string;
  /** Offset of the word in the logical line's argument text. */
  offset: number;
}

/**
 * Splits the leading `--flag` words off an instruction's arguments, as BuildKit's
 * `extractBuilderFlags`: words are quote-aware, `\` escapes, a bare `--` ends the flags.
 */
const plainFlag = /--[^\s"'\\]*(?=\s|$)/y;

export function extractFlagWords(args: string): { flags: FlagWord[]; rest: string } {
  const flags: FlagWord[] = [];
  let pos = 0;
  const length = args.length;
  for (;;) {
    while (pos < length && isSpaceAt(args, pos)) pos++;
    if (pos >= length) return { flags, rest: '' };
    if (args[pos] !== '-' || args[pos + 1] !== '-') return { flags, rest: args.slice(pos) };
    const start = pos;
    // Most flags hold no quotes or escapes: take the run of non-space characters as it is.
    plainFlag.lastIndex = pos;
    const plain = plainFlag.exec(args);
    if (plain !== null) {
      pos += plain[0].length;
      if (plain[0] === '--') return { flags, rest: pos >= length ? '' : args.slice(pos) };
      flags.push({ text: plain[0], offset: start });
      continue;
    }
    let word = '';
    let blankOk = false;
    let quote = '';
    for (; pos < length; pos++) {
      let ch = args[pos]!;
      if (quote === '') {
        if (isSpaceAt(args, pos)) break;
        if (ch === "'" || ch === '"') {
          quote = ch;
          blankOk = true;
          continue;
        }
      } else if (ch === quote) {
        quote = '';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === length) {
          if (quote !== '') quote = '';
          continue;
        }
        pos++;
        ch = args[pos]!;
      }
      word += ch;
    }
    if (word === '--') return { flags, rest: pos >= length ? '' : args.slice(pos) };
    if (blankOk || word.length > 0) flags.push({ text: word, offset: start });
  }
}

function isSpaceAt(text: string, pos: number): boolean {
  const code = text.charCodeAt(pos);
  // ASCII fast path; the regexp only for the rare non-ASCII character.
  return code === 32 || (code >= 9 && code <= 13) || (code > 127 && /\s/.test(text[pos]!));
}

export type FlagType = 'string' | 'bool' | 'strings';

/** The flags each instruction accepts (BuildKit's instructions/parse.go). */
export const flagSpecs: Readonly<Record<InstructionKind, Readonly<Record<string, FlagType>>>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string' },
  COPY: {
    from: 'string',
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    parents: 'bool',
    exclude: 'strings',
  },
  ADD: {
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    'keep-git-dir': 'bool',
    parents: 'bool',
    checksum: 'string',
    exclude: 'strings',
    unpack: 'bool',
  },
  HEALTHCHECK: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
  CMD: {},
  LABEL: {},
  MAINTAINER: {},
  EXPOSE: {},
  ENV: {},
  ENTRYPOINT: {},
  VOLUME: {},
  USER: {},
  WORKDIR: {},
  ARG: {},
  ONBUILD: {},
  STOPSIGNAL: {},
  SHELL: {},
};

export type FlagProblem =
  | { problem: 'unknown'; name: string }
  | { problem: 'duplicate'; name: string }
  | { problem: 'missing-value'; name: string }
  | { problem: 'not-boolean'; name: string; value: string };

/** Checks one `--name[=value]` word against the instruction's flags; `seen` tracks repeats. */
export function checkFlag(
  kind: InstructionKind,
  name: string,
  value: string | undefined,
  seen: Set<string>,
): FlagProblem | undefined {
  const type = flagSpecs[kind][name];
  if (type === undefined) return { problem: 'unknown', name };
  if (seen.has(name) && type !== 'strings') return { problem: 'duplicate', name };
  seen.add(name);
  if (type === 'bool') {
    if (value === '') return { problem: 'missing-value', name };
    if (value !== undefined && !/^(true|false)$/i.test(value)) return { problem: 'not-boolean', name, value };
    return undefined;
  }
  if (value === undefined) return { problem: 'missing-value', name };
  return undefined;
}

export function isFlagTrue(value: string | undefined): boolean {
  return value === undefined || value.toLowerCase() === 'true';
}

/** Validates an instruction's flag words into `Flag`s; `fail` throws with the flag's line. */
export function parseInstructionFlags(
  kind: InstructionKind,
  words: readonly FlagWord[],
  lineOf: (offset: number) => number,
  fail: (code: string, problem: string, line?: number) => never,
): Flag[] {
  const flags: Flag[] = [];
  if (words.length === 0) return flags;
  const seen = new Set<string>();
  for (const word of words) {
    const line = lineOf(word.offset);
    if (!word.text.startsWith('--'))
      fail('DOCKERFILE_INVALID_FLAG', `flag "${word.text}" should start with --`, line);
    const body = word.text.slice(2);
    const equals = body.indexOf('=');
    const name = equals < 0 ? body : body.slice(0, equals);
    const value = equals < 0 ? undefined : body.slice(equals + 1);
    const problem = checkFlag(kind, name, value, seen);
    if (problem !== undefined) fail('DOCKERFILE_INVALID_FLAG', describeFlagProblem(kind, problem), line);
    flags.push({ name, value, line });
  }
  return flags;
}

function describeFlagProblem(kind: InstructionKind, problem: FlagProblem): string {
  const name = problem.name;
  switch (problem.problem) {
    case 'unknown': {
      const known = Object.keys(flagSpecs[kind]);
      const expected =
        known.length === 0 ? `${kind} takes no flags` : `${kind} accepts --${known.join(', --')}`;
      return `unknown flag --${name} (${expected})`;
    }
    case 'duplicate':
      return `duplicate flag --${name}`;
    case 'missing-value':
      return `flag --${name} needs a value (--${name}=…)`;
    case 'not-boolean':
      return `flag --${name} expects true or false, not "${problem.value}"`;
  }
}
