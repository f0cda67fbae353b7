import { existsSync } from 'node:fs';
import { KilnError } from '@kiln/errors';
import { ContainerExecutor } from './containerExecutor.ts';
import type { BuildNetwork, Executor, ExecutorKind } from './executor.ts';
import { SandboxExecutor } from './sandboxExecutor.ts';
import { findUserNetworkTool, userNetworkUnavailable } from './userNetwork.ts';

/** Only Kiln's executor image carries this file; it is what makes `container` the default. */
export const executorImageMarker = '/kiln/.executor-image';

export interface SelectExecutorOptions {
  requested: ExecutorKind | 'auto';
  /** Allows `container` outside the executor image (it overwrites `/`). */
  force: boolean;
  markerPath?: string;
}

/**
 * Picks the executor kind: `auto` is `container` only inside the executor image. Container mode
 * elsewhere would overwrite this machine's own root (dev and CI machines look like containers
 * too, /.dockerenv and all), so it needs `--force`.
 */
export function selectExecutorKind(options: SelectExecutorOptions): ExecutorKind {
  const inExecutorImage = existsSync(options.markerPath ?? executorImageMarker);
  if (options.requested === 'auto') return inExecutorImage ? 'container' : 'sandbox';
  if (options.requested === 'container' && !inExecutorImage && !options.force) {
    throw new KilnError(
      'CONTAINER_EXECUTOR_REFUSED',
      '--executor container extracts images over / and runs builds in place; this is not the Kiln executor image',
      { hint: 'use --executor sandbox here, or add --force if this container is disposable', exitCode: 2 },
    );
  }
  return options.requested;
}

export interface CreateExecutorOptions {
  kind: ExecutorKind;
  workDir: string;
  /** Container mode: paths to keep when emptying `/` (the context, the Dockerfile, outputs). */
  keepPaths?: string[];
  /** `--network`; default `host`. */
  network?: BuildNetwork;
  /** Container mode: leave `/var/run` out of snapshots (default true, Kaniko's `--ignore-var-run`). */
  ignoreVarRun?: boolean;
}

export async function createExecutor(options: CreateExecutorOptions): Promise<Executor> {
  const network = options.network ?? 'host';
  if (options.kind === 'sandbox') {
    // Found out before the build starts, not at its first RUN.
    if (network === 'sandbox' && !(await findUserNetworkTool())) throw userNetworkUnavailable();
    return new SandboxExecutor({ workDir: options.workDir, network });
  }
  if (network !== 'host') {
    // RUN is spawned in place in an unprivileged container: no namespace of its own to give it.
    throw new KilnError('NETWORK_UNSUPPORTED', `--network ${network} needs the sandbox executor`, {
      hint: "container mode shares the container's network; isolate the build's pod or job instead",
      exitCode: 2,
    });
  }
  return new ContainerExecutor({
    workDir: options.workDir,
    keepPaths: options.keepPaths ?? [],
    ignoreVarRun: options.ignoreVarRun ?? true,
  });
}
