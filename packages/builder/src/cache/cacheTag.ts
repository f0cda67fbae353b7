/**
 * The tag a cache entry is stored under in the cache repository: the step's cache key with the
 * `:` a tag cannot hold replaced (`sha256:ab…` → `sha256-ab…`, 71 characters, under the 128 limit).
 * The key alone addresses the entry, so builders anywhere read and write the same tag safely.
 */
export function cacheTag(key: string): string {
  return key.replace(/[^\w.-]/g, '-').slice(0, 128);
}
