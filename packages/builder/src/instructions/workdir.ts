import { posix } from 'node:path';
import type { WorkdirInstruction } from '@kiln/dockerfile';
import { expandWord } from '@kiln/dockerfile';
import { createWorkdir } from '../stage/createWorkdir.ts';
import { nopCreatedBy } from '../stage/metadataInstructions.ts';
import { stageLookup } from '../stage/stageState.ts';
import type { Step, StepScope } from './step.ts';

/** WORKDIR: sets the working directory and creates it (and missing parents) in the root at once. */
export function workdirStep(instruction: WorkdirInstruction, scope: StepScope): Step {
  const { state, build } = scope;
  const config = state.config.config;
  const value = expandWord(instruction.value, stageLookup(state), { escape: build.dockerfile.escape });
  const path = posix.resolve(config.WorkingDir || '/', value);
  config.WorkingDir = path;
  return {
    createdBy: nopCreatedBy(`WORKDIR ${path}`),
    cacheKey: scope.keyFor(`WORKDIR ${path}`),
    changes: 'paths',
    // Whether the directory exists depends on files not extracted yet: then the cache answers.
    cache: 'while-lazy',
    needsTree: true,
    async execute() {
      // Created directories belong to the active USER, as BuildKit makes them.
      return { touched: await createWorkdir(state.root, path, config.User ?? '') };
    },
  };
}
