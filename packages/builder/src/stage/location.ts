import type { Dockerfile, Instruction } from '@kiln/dockerfile';

/** `Dockerfile:12` as error messages name an instruction. */
export function describeLocation(
  dockerfile: Dockerfile,
  instruction: Pick<Instruction, 'startLine'>,
): string {
  return `${dockerfile.fileName ?? 'Dockerfile'}:${instruction.startLine}`;
}

/** The instruction's first line, trimmed for messages and events. */
export function instructionSummary(instruction: Pick<Instruction, 'raw'>, max = 120): string {
  const text = instruction.raw
    .split('\n')
    .map((line) => line.trim())
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
