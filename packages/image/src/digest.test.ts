import { describe, expect, it } from 'vitest';
import { digestHex, isDigest, parseDigest, sha256Digest } from './digest.ts';

describe('digests', () => {
  it('computes sha256 digests of text and bytes alike', () => {
    const expected = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
    expect(sha256Digest('hello')).toBe(expected);
    expect(sha256Digest(new TextEncoder().encode('hello'))).toBe(expected);
    expect(digestHex(expected)).toHaveLength(64);
  });

  it('rejects malformed digests with a KilnError', () => {
    expect(isDigest('sha256:abc')).toBe(false);
    expect(() => parseDigest('sha512:00')).toThrowError(expect.objectContaining({ code: 'INVALID_DIGEST' }));
    expect(parseDigest(`sha256:${'a'.repeat(64)}`)).toBe(`sha256:${'a'.repeat(64)}`);
  });
});
