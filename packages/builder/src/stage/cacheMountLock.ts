import type lockfile from 'proper-lockfile';

// Loaded on the first cache mount: most builds have none, and every build pays for what it imports.
let loaded: Promise<typeof lockfile> | undefined;

/**
 * A lock beside a cache mount's directory (`<dir>.lock`), held while a RUN uses it. proper-lockfile
 * (a lock directory with a refreshed mtime) works across processes and containers sharing the cache
 * dir on a volume, and a lock left by a killed build goes stale instead of blocking forever.
 * `wait: false` answers undefined at once when another RUN holds it.
 */
export async function lockCacheMount(
  dir: string,
  wait: boolean,
  signal?: AbortSignal,
): Promise<(() => Promise<void>) | undefined> {
  const options = {
    realpath: false,
    lockfilePath: `${dir}.lock`,
    stale: 30_000,
    update: 5_000,
    // A lock taken over as stale is the other holder's problem; never crash this build over it.
    onCompromised: () => undefined,
  };
  loaded ??= import('proper-lockfile').then((module) => module.default);
  const { lock } = await loaded;
  for (;;) {
    try {
      const release = await lock(dir, { ...options, retries: 0 });
      return async () => {
        await release().catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      if (!wait) return undefined;
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
