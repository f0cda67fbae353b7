import { describe, expect, it } from 'vitest';
import { estimateRatio, median, summarize } from './statistics.ts';

describe('statistics', () => {
  it('takes the median of odd and even sample counts', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('summarizes min, median, max and the relative spread', () => {
    expect(summarize([10, 12, 8, 30, 11])).toEqual({ min: 8, median: 11, max: 30, spread: 2 });
  });

  it('takes the ratio of medians with the range of per-round ratios', () => {
    const estimate = estimateRatio([20, 22, 30], [10, 10, 12]);
    expect(estimate.ratio).toBeCloseTo(22 / 10);
    expect(estimate.low).toBeCloseTo(2);
    expect(estimate.high).toBeCloseTo(30 / 12);
  });
});
