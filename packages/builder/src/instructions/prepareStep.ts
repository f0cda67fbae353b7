import type { Instruction } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import { isMetadataInstruction } from '../stage/metadataInstructions.ts';
import { argStep } from './arg.ts';
import { copyStep } from './copy.ts';
import { metadataStep } from './metadata.ts';
import { runCommandStep } from './run.ts';
import type { Step, StepScope } from './step.ts';
import { workdirStep } from './workdir.ts';

/** The instruction's step: config changes applied, the rest described for the step runner. */
export async function prepareStep(instruction: Instruction, scope: StepScope): Promise<Step> {
  switch (instruction.kind) {
    case 'ARG':
      return argStep(instruction, scope);
    case 'WORKDIR':
      return workdirStep(instruction, scope);
    case 'RUN':
      return runCommandStep(instruction, scope);
    case 'COPY':
    case 'ADD':
      return copyStep(instruction, scope);
    case 'FROM':
      throw new KilnError('INTERNAL', 'FROM inside a stage');
    default:
      if (!isMetadataInstruction(instruction))
        throw new KilnError('UNKNOWN_INSTRUCTION', `${scope.where}: cannot execute this instruction`);
      return metadataStep(instruction, scope);
  }
}
