import { join } from 'node:path';
import type { RunInstruction } from '@kiln/dockerfile';
import { expandWord } from '@kiln/dockerfile';
import { runCacheText, runCreatedBy, runInstruction } from '../stage/runInstruction.ts';
import type { RunMountContext } from '../stage/runMounts.ts';
import { sourceFrom } from '../stage/stageSources.ts';
import { stageLookup } from '../stage/stageState.ts';
import type { Step, StepScope } from './step.ts';

/** RUN: executes a command in the root; its layer is what a snapshot diff finds. */
export function runCommandStep(instruction: RunInstruction, scope: StepScope): Step {
  const { build, state, stage } = scope;
  const createdBy = runCreatedBy(state, instruction, build.args);
  // A bind mount's files are not part of the key, so such a RUN is never served from the cache.
  const uncached =
    build.env.cacheLayers?.run === false || instruction.mounts.some((mount) => mount.type === 'bind');
  return {
    createdBy,
    // A #! heredoc body runs as a file that history names only: the key covers its text.
    cacheKey: scope.keyFor(runCacheText(createdBy, instruction)),
    changes: 'snapshot',
    cache: uncached ? 'never' : 'always',
    needsTree: true,
    async execute(run) {
      const mountTargets = await runInstruction({
        state,
        instruction,
        executor: build.env.executor,
        args: build.args,
        where: scope.where,
        onOutput: (line, stream) =>
          build.emit({ type: 'run-output', stage: stage.name, step: scope.step, stream, line }),
        signal: build.signal,
        mounts: mountContext(scope),
        ...(run.commandStarted ? { onStarted: () => run.commandStarted?.() } : {}),
      });
      return mountTargets.length > 0 ? { mountTargets } : {};
    },
  };
}

function mountContext(scope: StepScope): Omit<RunMountContext, 'cwd'> {
  const { build, state, stage } = scope;
  return {
    where: scope.where,
    expand: (word) => expandWord(word, stageLookup(state), { escape: build.dockerfile.escape }),
    cacheMountDir: build.env.cacheMountDir ?? join(build.env.workDir, 'cache-mounts'),
    scratchDir: join(build.env.workDir, 'scratch', `${stage.index}-${scope.step}`),
    isIgnored: build.isIgnored,
    ...(build.env.secrets ? { secrets: build.env.secrets } : {}),
    // Container mode moves a cache dir into place: one RUN at a time can have it.
    exclusiveCaches: build.env.executor.kind === 'container',
    signal: build.signal,
    sourceRoot: async (from) =>
      from === undefined ? build.input.contextDir : (await sourceFrom(build, stage, from, scope.where)).root,
  };
}
