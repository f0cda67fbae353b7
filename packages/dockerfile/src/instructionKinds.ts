import type { InstructionKind } from './ast.ts';

/** The 18 instructions, in the Dockerfile reference's order. */
export const instructionKinds: readonly InstructionKind[] = [
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'MAINTAINER',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
];

const kindSet: ReadonlySet<string> = new Set(instructionKinds);

export function isInstructionKind(word: string): word is InstructionKind {
  return kindSet.has(word);
}
