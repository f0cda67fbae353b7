import type { ArgInstruction } from '@kiln/dockerfile';
import { declareArgs } from '../stage/argScope.ts';
import { nopCreatedBy } from '../stage/metadataInstructions.ts';
import type { Step, StepScope } from './step.ts';

/** ARG: declares the names in the stage's scope; config only. */
export function argStep(instruction: ArgInstruction, scope: StepScope): Step {
  const { state, build } = scope;
  declareArgs(state, instruction, build.args, build.dockerfile.escape);
  const text = instruction.args
    .map((arg) => {
      const value = state.args.get(arg.name);
      return value === undefined ? arg.name : `${arg.name}=${value}`;
    })
    .join(' ');
  return {
    createdBy: nopCreatedBy(`ARG ${text}`),
    cacheKey: scope.keyFor(`ARG ${text}`),
    changes: 'none',
    cache: 'never',
    needsTree: false,
  };
}
