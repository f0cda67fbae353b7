import fc from 'fast-check';
import { expect, it } from 'vitest';
import { comparePaths } from './comparePaths.ts';

it('orders like the UTF-8 bytes of the paths', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
      const bytes = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(Math.sign(comparePaths(a, b))).toBe(bytes);
    }),
  );
  expect(comparePaths('z\uFF5E', 'z\u{1F600}')).toBeLessThan(0);
});
