import { mkdir, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { WorkdirInstruction } from '@kiln/dockerfile';
import { expandWord } from '@kiln/dockerfile';
import { nopCreatedBy } from '../stage/metadataInstructions.ts';
import { imagePathOf, resolveInRoot } from '../stage/resolveInRoot.ts';
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
      return { touched: await createDirs(state.root, await resolveInRoot(state.root, path)) };
    },
  };
}

/** Creates `host` and its missing parents; returns the created ones as in-image paths. */
async function createDirs(root: string, host: string): Promise<string[]> {
  const missing: string[] = [];
  let current = host;
  while (current.length > root.length) {
    try {
      await stat(current);
      break;
    } catch {
      missing.unshift(current);
      current = current.slice(0, current.lastIndexOf('/'));
    }
  }
  for (const dir of missing) await mkdir(dir, { mode: 0o755 });
  return missing.map((dir) => imagePathOf(root, dir));
}
