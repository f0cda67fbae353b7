import { describe, expect, it } from 'vitest';
import { targetText } from './targetText.ts';

describe('targetText', () => {
  it('states whether a bounded target was met', () => {
    expect(targetText({ maxRatio: 0.5, met: true })).toBe('met ≤ 0.5×');
    expect(targetText({ maxRatio: 1 / 3, met: false })).toBe('missed ≤ 0.333×');
    expect(targetText({ minRatio: 2, maxMs: 200, met: false }, 'MISSED')).toBe('MISSED ≥ 2×, ≤ 200 ms');
  });

  it('shows only the note of a target without a bound', () => {
    expect(targetText({ note: 'under 50 ms for 5,000 lines' })).toBe('under 50 ms for 5,000 lines');
    expect(targetText(undefined)).toBe('');
  });
});
