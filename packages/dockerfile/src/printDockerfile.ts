import { parseNameValue } from './argumentForms.ts';
import type { Dockerfile, Flag, Instruction, KeyValue } from './ast.ts';

/**
 * Prints an AST back to Dockerfile text: directives, then one line per instruction (continuations
 * joined) followed by its heredoc bodies. Re-parsing the text gives the same AST, positions aside.
 */
export function printDockerfile(dockerfile: Dockerfile): string {
  let text = '';
  for (const directive of dockerfile.directives) text += `# ${directive.name}=${directive.value}\n`;
  if (dockerfile.escape !== '\\' && !dockerfile.directives.some((directive) => directive.name === 'escape')) {
    text += `# escape=${dockerfile.escape}\n`;
  }
  for (const instruction of dockerfile.instructions) text += printInstruction(instruction, dockerfile.escape);
  return text;
}

/** One instruction with its heredoc bodies, newline-terminated. */
export function printInstruction(instruction: Instruction, escapeChar = '\\'): string {
  let text = `${printInstructionLine(instruction, escapeChar)}\n`;
  const carrier = instruction.kind === 'ONBUILD' ? instruction.instruction : instruction;
  if ('heredocs' in carrier) {
    for (const heredoc of carrier.heredocs) text += `${heredoc.content}${heredoc.name}\n`;
  }
  return text;
}

/** The instruction's logical line alone: keyword, flags, arguments. */
export function printInstructionLine(instruction: Instruction, escapeChar = '\\'): string {
  const head = [instruction.kind, ...instruction.flags.map(printFlag)].join(' ');
  const line = (args: string): string => (args === '' ? head : `${head} ${args}`);
  switch (instruction.kind) {
    case 'FROM':
      return line(
        instruction.stageName === undefined
          ? instruction.image
          : `${instruction.image} AS ${instruction.stageName}`,
      );
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT':
      return line(instruction.form === 'exec' ? printJsonArray(instruction.args) : instruction.command);
    case 'HEALTHCHECK':
      if (instruction.type === 'NONE') return line('NONE');
      return line(
        `CMD ${instruction.form === 'exec' ? printJsonArray(instruction.args) : instruction.command}`,
      );
    case 'SHELL':
      return line(printJsonArray(instruction.args));
    case 'ENV':
    case 'LABEL':
      return line(printPairs(instruction.pairs, escapeChar));
    case 'ARG':
      return line(
        instruction.args
          .map((arg) => (arg.defaultValue === undefined ? arg.name : `${arg.name}=${arg.defaultValue}`))
          .join(' '),
      );
    case 'COPY':
    case 'ADD': {
      const words = [...instruction.sources, instruction.destination];
      return line(instruction.form === 'exec' ? printJsonArray(words) : words.join(' '));
    }
    case 'EXPOSE':
      return line(instruction.values.join(' '));
    case 'VOLUME': {
      const plain = instruction.values.join(' ');
      // Plain words only when they read back the same: no spaces, escapes, JSON or flag look-alikes.
      const safe = instruction.values.every((value) => /^[^\s\\`]+$/.test(value)) && !/^(\[|--)/.test(plain);
      return line(safe ? plain : printJsonArray(instruction.values));
    }
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      return line(instruction.value);
    case 'ONBUILD':
      return line(printInstructionLine(instruction.instruction, escapeChar));
  }
}

function printFlag(flag: Flag): string {
  if (flag.value === undefined) return `--${flag.name}`;
  const needsQuotes = /[\s"'\\]/.test(flag.value);
  return `--${flag.name}=${needsQuotes ? `"${flag.value.replace(/["\\]/g, '\\$&')}"` : flag.value}`;
}

function printJsonArray(values: readonly string[]): string {
  return `[${values.map((value) => JSON.stringify(value)).join(', ')}]`;
}

/** `k=v …` unless the pair came from the legacy `KEY value with spaces` form and needs it. */
function printPairs(pairs: readonly KeyValue[], escapeChar: string): string {
  const modern = pairs.map((pair) => `${pair.key}=${pair.value}`).join(' ');
  const reparsed = parseNameValue(modern, escapeChar);
  if (reparsed.kind === 'pairs' && samePairs(reparsed.pairs, pairs)) return modern;
  const only = pairs[0];
  return pairs.length === 1 && only !== undefined ? `${only.key} ${only.value}` : modern;
}

function samePairs(a: readonly KeyValue[], b: readonly KeyValue[]): boolean {
  return a.length === b.length && a.every((pair, i) => pair.key === b[i]?.key && pair.value === b[i]?.value);
}
