import { rm } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import { type BusyboxRegistry, startBusyboxRegistry, stopBusyboxRegistry } from '../busyboxRegistry.ts';
import { createSentinelTree, type SentinelTree } from './sentinelTree.ts';

/** What a hostile-input test file starts from: the busybox registry, a scratch dir and a sentinel tree. */
export interface HostileEnvironment extends BusyboxRegistry {
  sentinel: SentinelTree;
}

/**
 * Starts the registry and makes the sentinel tree: under the system temp dir by default, or inside
 * `work` where an attack would land beside the build's own dirs (`sentinelInWork`).
 */
export async function startHostileEnvironment(
  scratchPrefix: string,
  options: { sentinelInWork?: boolean } = {},
): Promise<HostileEnvironment> {
  const started = await startBusyboxRegistry(scratchPrefix);
  try {
    const sentinel = await createSentinelTree(options.sentinelInWork ? started.work : undefined);
    return { ...started, sentinel };
  } catch (error) {
    await stopBusyboxRegistry(started);
    throw error;
  }
}

/** Safe after a start that failed part way (fields still undefined). */
export async function stopHostileEnvironment(started: Partial<HostileEnvironment>): Promise<void> {
  await stopBusyboxRegistry(started);
  if (started.sentinel) await rm(started.sentinel.dir, { recursive: true, force: true });
}

/**
 * Registers the file's hooks: started before its tests, stopped after them. The object is filled in
 * by the `beforeAll` hook, so its fields are read only inside tests and later hooks.
 */
export function useHostileEnvironment(
  scratchPrefix: string,
  options: { sentinelInWork?: boolean } = {},
): HostileEnvironment {
  const env = {} as HostileEnvironment;
  beforeAll(async () => {
    Object.assign(env, await startHostileEnvironment(scratchPrefix, options));
  }, 120_000);
  afterAll(() => stopHostileEnvironment(env));
  return env;
}
