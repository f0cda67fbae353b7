import type { Executor } from './executor.ts';

/**
 * The executor, with every stage root and command held until `check` has passed, and refused with
 * its error if it failed: a check that runs alongside parsing and the base image's resolution (the
 * push-access check) still stops the build before any stage starts.
 */
export function afterCheck(executor: Executor, check: Promise<void>): Executor {
  return {
    kind: executor.kind,
    concurrentStages: executor.concurrentStages,
    prepareRoot: async (stage) => {
      await check;
      return executor.prepareRoot(stage);
    },
    run: async (command, options) => {
      await check;
      return executor.run(command, options);
    },
    ignoredPaths: () => executor.ignoredPaths(),
    dispose: () => executor.dispose(),
  };
}
