import { parseJsonArray, parseNameValue, parseWords, splitOnWhitespace } from './argumentForms.ts';
import type {
  AddOptions,
  ArgDeclaration,
  CommandPayload,
  CopyOptions,
  EscapeChar,
  HealthcheckOptions,
  Instruction,
  Mount,
} from './ast.ts';
import { extractFlagWords, isFlagTrue, parseInstructionFlags } from './builderFlags.ts';
import { DockerfileSyntaxError } from './dockerfileSyntaxError.ts';
import { expandWord } from './expandWord.ts';
import { instructionKinds, isInstructionKind } from './instructionKinds.ts';
import { parseMount } from './mounts.ts';
import { quoteForMessage } from './quoteForMessage.ts';
import { ShellExpansionError } from './shellExpansionError.ts';

/** What an instruction line needs from the file around it: positions and the escape character. */
export interface LineContext {
  fileName: string | undefined;
  escape: EscapeChar;
  startLine: number;
  endLine: number;
  raw: string;
  /** The physical line an offset of the logical line came from. */
  lineAt: (offset: number) => number;
  lineText: (line: number) => string;
}

const leadingSpace = /^\s*/;
const keywordAndSpace = /^(\S+)\s*/;
const mayFailExpansion = /["'$]/;
const durationPattern = /^(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+)$/;

/**
 * Parses one logical line (continuations joined) into an instruction, without heredoc bodies.
 * `offset` is where `text` starts in the logical line, for flag positions.
 */
export function parseInstructionLine(text: string, offset: number, ctx: LineContext): Instruction {
  const fail: (code: string, problem: string, line?: number) => never = (
    code,
    problem,
    line = ctx.startLine,
  ) => {
    throw new DockerfileSyntaxError(code, problem, {
      fileName: ctx.fileName,
      line,
      lineText: ctx.lineText(line),
    });
  };
  const lead = leadingSpace.exec(text)![0].length;
  const keywordMatch = keywordAndSpace.exec(text.slice(lead));
  if (keywordMatch === null) return fail('DOCKERFILE_SYNTAX', 'expected an instruction');
  const keyword = keywordMatch[1]!;
  const kind = keyword.toUpperCase();
  if (!isInstructionKind(kind)) {
    return fail(
      'DOCKERFILE_UNKNOWN_INSTRUCTION',
      `unknown instruction "${keyword}" (expected one of ${instructionKinds.join(', ')})`,
    );
  }
  const argsOffset = offset + lead + keywordMatch[0].length;
  const { flags: flagWords, rest: afterFlags } = extractFlagWords(text.slice(lead + keywordMatch[0].length));
  const rest = afterFlags.trim();
  const flags = parseInstructionFlags(
    kind,
    flagWords,
    (wordOffset) => ctx.lineAt(argsOffset + wordOffset),
    fail,
  );
  const base = { startLine: ctx.startLine, endLine: ctx.endLine, raw: ctx.raw, flags };
  const flagValue = (name: string): string | undefined => flags.find((flag) => flag.name === name)?.value;
  const flagLine = (name: string): number => flags.find((flag) => flag.name === name)?.line ?? ctx.startLine;
  const requireArgs = (): void => {
    if (rest === '') fail('DOCKERFILE_MISSING_ARGUMENTS', `${kind} needs at least one argument`);
  };
  const checkWords = (words: readonly (string | undefined)[]): void => {
    for (const word of words) {
      // Without quotes or `$` nothing can fail; most words take this path.
      if (word === undefined || !mayFailExpansion.test(word)) continue;
      try {
        // Every variable set and non-empty: only the syntax can fail here, not `${VAR:?}`.
        expandWord(word, () => 'x', { escape: ctx.escape });
      } catch (error) {
        if (!(error instanceof ShellExpansionError)) throw error;
        const code =
          error.code === 'SHELL_UNTERMINATED_QUOTE'
            ? 'DOCKERFILE_UNTERMINATED_QUOTE'
            : error.code === 'SHELL_EXPANSION_TOO_DEEP'
              ? 'DOCKERFILE_EXPANSION_TOO_DEEP'
              : 'DOCKERFILE_BAD_SUBSTITUTION';
        fail(code, `${kind}: ${error.message} in ${quoteForMessage(word, 60)}`);
      }
    }
  };
  const command = (): CommandPayload => {
    requireArgs();
    const json = parseJsonArray(rest);
    if (json.kind === 'not-strings')
      fail('DOCKERFILE_INVALID_ARGUMENTS', `${kind}: a JSON array must hold only strings`);
    if (json.kind === 'array') return { form: 'exec', args: json.values, heredocs: [] };
    return { form: 'shell', command: rest, heredocs: [] };
  };
  const list = (): { values: string[]; form: 'exec' | 'shell' } => {
    const json = parseJsonArray(rest);
    if (json.kind === 'not-strings')
      fail('DOCKERFILE_INVALID_ARGUMENTS', `${kind}: a JSON array must hold only strings`);
    if (json.kind === 'array') return { values: json.values, form: 'exec' };
    return { values: splitOnWhitespace(rest), form: 'shell' };
  };
  const single = (): string => {
    requireArgs();
    checkWords([rest]);
    return rest;
  };

  switch (kind) {
    case 'FROM': {
      requireArgs();
      const words = splitOnWhitespace(rest);
      const image = words[0]!;
      let stageName: string | undefined;
      if (words.length === 3 && words[1]!.toLowerCase() === 'as') {
        stageName = words[2]!.toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(stageName)) {
          fail(
            'DOCKERFILE_INVALID_ARGUMENTS',
            `invalid stage name "${words[2]}": expected a letter followed by letters, digits, "-", "_" or "."`,
          );
        }
      } else if (words.length !== 1) {
        fail('DOCKERFILE_INVALID_ARGUMENTS', 'FROM expects an image and optionally "AS name"');
      }
      const platform = flagValue('platform');
      checkWords([image, platform]);
      return {
        kind,
        ...base,
        image,
        ...(platform === undefined ? {} : { platform }),
        ...(stageName === undefined ? {} : { stageName }),
      };
    }
    case 'RUN': {
      const mounts: Mount[] = [];
      for (const flag of flags) {
        if (flag.name !== 'mount') continue;
        const parsed = parseMount(flag.value ?? '');
        if (!parsed.ok) fail('DOCKERFILE_INVALID_FLAG', `invalid --mount: ${parsed.problem}`, flag.line);
        else mounts.push(parsed.mount);
      }
      const network = flagValue('network');
      if (network !== undefined && !['default', 'none', 'host'].includes(network)) {
        fail(
          'DOCKERFILE_INVALID_FLAG',
          `--network expects default, none or host, not "${network}"`,
          flagLine('network'),
        );
      }
      const security = flagValue('security');
      if (security !== undefined && !['sandbox', 'insecure'].includes(security)) {
        fail(
          'DOCKERFILE_INVALID_FLAG',
          `--security expects sandbox or insecure, not "${security}"`,
          flagLine('security'),
        );
      }
      return {
        kind,
        ...base,
        ...command(),
        mounts,
        ...(network === undefined ? {} : { network }),
        ...(security === undefined ? {} : { security }),
      };
    }
    case 'CMD':
    case 'ENTRYPOINT':
      return { kind, ...base, ...command() };
    case 'SHELL': {
      requireArgs();
      const json = parseJsonArray(rest);
      if (json.kind !== 'array')
        return fail('DOCKERFILE_INVALID_ARGUMENTS', 'SHELL expects a JSON array of strings');
      if (json.values.length === 0) fail('DOCKERFILE_MISSING_ARGUMENTS', 'SHELL needs at least one argument');
      return { kind, ...base, args: json.values };
    }
    case 'ENV':
    case 'LABEL': {
      requireArgs();
      const parsed = parseNameValue(rest, ctx.escape);
      if (parsed.kind === 'missing-value') {
        return fail(
          'DOCKERFILE_MISSING_VALUE',
          `${kind} ${parsed.key} has no value (expected ${kind} ${parsed.key}=value or ${kind} ${parsed.key} value)`,
        );
      }
      if (parsed.kind === 'missing-equals') {
        return fail('DOCKERFILE_MISSING_VALUE', `${kind}: expected name=value, got "${parsed.word}"`);
      }
      checkWords(parsed.pairs.flatMap((pair) => [pair.key, pair.value]));
      return { kind, ...base, pairs: parsed.pairs };
    }
    case 'ARG': {
      requireArgs();
      const args: ArgDeclaration[] = parseWords(rest, ctx.escape).map((word) => {
        const equals = word.indexOf('=');
        return equals < 0
          ? { name: word }
          : { name: word.slice(0, equals), defaultValue: word.slice(equals + 1) };
      });
      if (args.some((arg) => arg.name === ''))
        fail('DOCKERFILE_INVALID_ARGUMENTS', 'ARG names cannot be blank');
      checkWords(args.flatMap((arg) => [arg.name, arg.defaultValue]));
      return { kind, ...base, args };
    }
    case 'COPY':
    case 'ADD': {
      const { values, form } = list();
      if (values.length < 2) {
        fail('DOCKERFILE_MISSING_ARGUMENTS', `${kind} needs at least one source and a destination`);
      }
      if (form === 'shell' && /^\d*<<-?[^<]+$/.test(values.at(-1)!)) {
        fail('DOCKERFILE_INVALID_ARGUMENTS', `${kind} cannot take a heredoc as its destination`);
      }
      checkWords(values);
      const transfer = { sources: values.slice(0, -1), destination: values.at(-1)!, heredocs: [], form };
      const common = {
        ...optional('chown', flagValue('chown')),
        ...optional('chmod', flagValue('chmod')),
        link: flags.some((flag) => flag.name === 'link' && isFlagTrue(flag.value)),
        exclude: flags.filter((flag) => flag.name === 'exclude').map((flag) => flag.value ?? ''),
      };
      if (kind === 'COPY') {
        const options: CopyOptions = {
          ...optional('from', flagValue('from')),
          ...common,
          parents: flags.some((flag) => flag.name === 'parents' && isFlagTrue(flag.value)),
        };
        return { kind, ...base, ...transfer, options };
      }
      const unpack = flags.find((flag) => flag.name === 'unpack');
      const options: AddOptions = {
        ...common,
        ...optional('checksum', flagValue('checksum')),
        keepGitDir: flags.some((flag) => flag.name === 'keep-git-dir' && isFlagTrue(flag.value)),
        parents: flags.some((flag) => flag.name === 'parents' && isFlagTrue(flag.value)),
        ...(unpack === undefined ? {} : { unpack: isFlagTrue(unpack.value) }),
      };
      return { kind, ...base, ...transfer, options };
    }
    case 'EXPOSE': {
      requireArgs();
      const values = splitOnWhitespace(rest);
      checkWords(values);
      return { kind, ...base, values };
    }
    case 'VOLUME': {
      requireArgs();
      const { values } = list();
      if (values.length === 0) fail('DOCKERFILE_MISSING_ARGUMENTS', 'VOLUME needs at least one path');
      if (values.some((value) => value.trim() === ''))
        fail('DOCKERFILE_INVALID_ARGUMENTS', 'VOLUME paths cannot be empty');
      checkWords(values);
      return { kind, ...base, values };
    }
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      return { kind, ...base, value: single() };
    case 'ONBUILD': {
      requireArgs();
      const innerOffset = argsOffset + (text.slice(lead + keywordMatch[0].length).length - afterFlags.length);
      const instruction = parseInstructionLine(rest, innerOffset, ctx);
      if (
        instruction.kind === 'ONBUILD' ||
        instruction.kind === 'FROM' ||
        instruction.kind === 'MAINTAINER'
      ) {
        fail(
          'DOCKERFILE_INVALID_ONBUILD',
          instruction.kind === 'ONBUILD'
            ? 'ONBUILD cannot wrap another ONBUILD'
            : `${instruction.kind} is not allowed as an ONBUILD trigger`,
        );
      }
      return { kind, ...base, instruction };
    }
    case 'HEALTHCHECK': {
      requireArgs();
      const typeMatch = /^(\S+)\s*/.exec(rest)!;
      const type = typeMatch[1]!.toUpperCase();
      const after = rest.slice(typeMatch[0].length);
      if (type === 'NONE') {
        if (after !== '') fail('DOCKERFILE_INVALID_ARGUMENTS', 'HEALTHCHECK NONE takes no arguments');
        if (flags.length > 0)
          fail('DOCKERFILE_INVALID_FLAG', 'HEALTHCHECK NONE takes no flags', flags[0]!.line);
        return { kind, ...base, type: 'NONE' };
      }
      if (type !== 'CMD') {
        return fail(
          'DOCKERFILE_INVALID_ARGUMENTS',
          `unknown HEALTHCHECK type "${typeMatch[1]}" (expected CMD or NONE)`,
        );
      }
      if (after === '') fail('DOCKERFILE_MISSING_ARGUMENTS', 'HEALTHCHECK CMD needs a command');
      const options: HealthcheckOptions = {};
      for (const [flagName, key] of healthDurations) {
        const value = flagValue(flagName);
        if (value === undefined) continue;
        if (!durationPattern.test(value)) {
          fail(
            'DOCKERFILE_INVALID_FLAG',
            `--${flagName} expects a duration such as 30s or 1m30s`,
            flagLine(flagName),
          );
        }
        options[key] = value;
      }
      const retries = flagValue('retries');
      if (retries !== undefined) {
        if (!/^\+?\d+$/.test(retries) || Number(retries) > 2 ** 31 - 1) {
          fail(
            'DOCKERFILE_INVALID_FLAG',
            '--retries expects a non-negative whole number',
            flagLine('retries'),
          );
        }
        options.retries = Number(retries);
      }
      const json = parseJsonArray(after);
      if (json.kind === 'not-strings')
        fail('DOCKERFILE_INVALID_ARGUMENTS', 'HEALTHCHECK: a JSON array must hold only strings');
      const payload: CommandPayload =
        json.kind === 'array'
          ? { form: 'exec', args: json.values, heredocs: [] }
          : { form: 'shell', command: after, heredocs: [] };
      return { kind, ...base, type: 'CMD', options, ...payload };
    }
  }
}

const healthDurations = [
  ['interval', 'interval'],
  ['timeout', 'timeout'],
  ['start-period', 'startPeriod'],
  ['start-interval', 'startInterval'],
] as const;

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
