import { describe, expect, it } from 'vitest';
import { cacheTag } from './cacheTag.ts';
import { defaultCacheTtlMs, parseCacheTtl } from './cacheTtl.ts';

describe('parseCacheTtl', () => {
  it('reads Go durations as Kaniko takes them, plus days', () => {
    expect(parseCacheTtl('336h')).toBe(defaultCacheTtlMs);
    expect(parseCacheTtl('6h30m')).toBe(6.5 * 3_600_000);
    expect(parseCacheTtl('90s')).toBe(90_000);
    expect(parseCacheTtl('1.5h')).toBe(5_400_000);
    expect(parseCacheTtl('250ms')).toBe(250);
    expect(parseCacheTtl('14d')).toBe(defaultCacheTtlMs);
  });

  it('refuses anything else with INVALID_FLAG', () => {
    for (const text of ['', '10', 'h', '5 m', '3w', '1h-2m']) {
      expect(() => parseCacheTtl(text), text).toThrow(expect.objectContaining({ code: 'INVALID_FLAG' }));
    }
  });
});

describe('cacheTag', () => {
  it('is the key with its colon replaced: a valid tag under 128 characters', () => {
    const key = `sha256:${'ab'.repeat(32)}`;
    expect(cacheTag(key)).toBe(`sha256-${'ab'.repeat(32)}`);
    expect(cacheTag(key)).toMatch(/^[\w][\w.-]{0,127}$/);
  });
});
