import type { CachedStep, LayerCache } from '../layerCache.ts';

const hidden = '***';

/**
 * A layer cache whose entries carry no build-arg value in their history or config: for steps of
 * stages that never reach the image (a builder stage's `RUN |1 TOKEN=…`, `ENV X=$TOKEN`), whose
 * cache entries would otherwise publish what the image itself never shows. Keys stay as they are
 * (hashes). The layer's files are what the step wrote, as in the image.
 */
export function withoutBuildArgValues(cache: LayerCache, buildArgs: Map<string, string>): LayerCache {
  // Longest first, so a value containing another is hidden whole.
  const values = [...new Set(buildArgs.values())]
    .filter((value) => value !== '')
    .sort((a, b) => b.length - a.length);
  if (values.length === 0) return cache;
  const hide = (text: string) => values.reduce((result, value) => result.replaceAll(value, hidden), text);
  const scrub = <T>(value: T): T =>
    typeof value === 'string'
      ? (hide(value) as T)
      : Array.isArray(value)
        ? (value.map(scrub) as T)
        : value !== null && typeof value === 'object'
          ? (Object.fromEntries(Object.entries(value).map(([key, inner]) => [hide(key), scrub(inner)])) as T)
          : value;
  return {
    get: (key) => cache.get(key),
    ...(cache.prefetch ? { prefetch: (key: string) => cache.prefetch?.(key) } : {}),
    put(key, step) {
      const scrubbed: CachedStep = {
        ...step,
        history: scrub(step.history),
        config: scrub(step.config),
      };
      return cache.put(key, scrubbed);
    },
  };
}
