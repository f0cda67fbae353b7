import type { ArgInstruction } from '@kiln/dockerfile';
import { declareArgs } from '../stage/argScope.ts';
import { nopCreatedBy } from '../stage/metadataInstructions.ts';
import type { Step, StepScope } from './step.ts';

/**
 * ARG: declares the names in the stage's scope; config only. History shows the declaration as
 * written (`ARG NAME`, `ARG NAME=default`) as earlier BuildKit releases did, never a value passed
 * with --build-arg (newer BuildKit writes it); the cache key covers the values through the args.
 */
export function argStep(instruction: ArgInstruction, scope: StepScope): Step {
  const { state, build } = scope;
  declareArgs(state, instruction, build.args, build.dockerfile.escape);
  const text = instruction.args
    .map((arg) => (arg.defaultValue === undefined ? arg.name : `${arg.name}=${arg.defaultValue}`))
    .join(' ');
  return {
    createdBy: nopCreatedBy(`ARG ${text}`),
    cacheKey: scope.keyFor(`ARG ${text}`),
    changes: 'none',
    cache: 'never',
    needsTree: false,
  };
}
