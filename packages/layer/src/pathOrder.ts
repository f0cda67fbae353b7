/**
 * Compares paths in the byte order of their UTF-8 form, as the snapshot sorts them and as
 * reproducible tars list them. UTF-16 order differs only where a surrogate pair (a code point
 * above U+FFFF) meets a code unit from U+E000 to U+FFFF, so surrogates are lifted above those.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && x <= 0xdfff) x += 0x10000;
    if (y >= 0xd800 && y <= 0xdfff) y += 0x10000;
    return x - y;
  }
  return a.length - b.length;
}
