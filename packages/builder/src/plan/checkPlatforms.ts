import { parseDockerfile } from '@kiln/dockerfile';
import { hostPlatform, type Platform } from '@kiln/image';
import type { BuildInput } from '../buildOptions.ts';
import { checkForeignRuns } from '../executor/checkForeignRuns.ts';
import type { ExecutorKind } from '../executor/executor.ts';
import { planStages } from './planStages.ts';
import { platformArgs } from './platformArgs.ts';

/**
 * Plans the build for every platform before the first one starts, so a RUN that one of them
 * cannot run (no emulation, the container executor) fails the build before any work is done.
 */
export async function checkPlatforms(
  input: Pick<BuildInput, 'dockerfileText' | 'dockerfileName' | 'target' | 'buildArgs'>,
  executor: ExecutorKind,
  platforms: Platform[],
): Promise<void> {
  const dockerfile = parseDockerfile(input.dockerfileText, { fileName: input.dockerfileName });
  const host = hostPlatform();
  for (const platform of platforms) {
    const plan = planStages(dockerfile, {
      ...(input.target ? { target: input.target } : {}),
      buildArgs: input.buildArgs,
      automaticArgs: platformArgs(platform, host),
    });
    await checkForeignRuns(dockerfile, plan, { executor, target: platform, host });
  }
}
