/**
 * Orders paths by the bytes of their UTF-8 form. JS string order (UTF-16 code units) agrees with it
 * except between surrogate pairs and U+E000–U+FFFF, which this corrects.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) return utf8Rank(ca) - utf8Rank(cb);
    return ca - cb;
  }
  return a.length - b.length;
}

/** The index of `path` in `paths` sorted by comparePaths, or -1. */
export function searchSortedPaths(paths: readonly string[], path: string): number {
  let low = 0;
  let high = paths.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const order = comparePaths(paths[mid]!, path);
    if (order === 0) return mid;
    if (order < 0) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}

function utf8Rank(code: number): number {
  // Surrogates encode code points above U+FFFF, whose UTF-8 sorts after U+E000–U+FFFF.
  return code >= 0xe000 ? code - 0x800 : code + 0x2000;
}
