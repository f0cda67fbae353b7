import { describe, expect, it } from 'vitest';
import { collectGarbage } from './collectGarbage.ts';

describe('collectGarbage', () => {
  it('frees memory that became unreachable, with no allocation to trigger a collection on its own', () => {
    let garbage: Array<{ i: number }> | undefined = Array.from({ length: 1_000_000 }, (_, i) => ({ i }));
    const held = process.memoryUsage().heapUsed;
    expect(garbage.length).toBe(1_000_000);
    garbage = undefined;
    collectGarbage();
    expect(process.memoryUsage().heapUsed).toBeLessThan(held - 10 * 2 ** 20);
  });
});
