import { describe, expect, it } from 'vitest';
import { formatMs, formatPercent, formatRatio, formatRatioRange } from './formatFigures.ts';

describe('formatFigures', () => {
  it('picks a unit that fits and keeps three significant digits', () => {
    expect(formatMs(0.0421)).toBe('42.1 µs');
    expect(formatMs(12.345)).toBe('12.3 ms');
    expect(formatMs(2345)).toBe('2.35 s');
    expect(formatMs(Number.NaN)).toBe('–');
  });

  it('writes ratios with their range and signed changes', () => {
    expect(formatRatio(0.4213)).toBe('0.421×');
    expect(formatRatioRange(1.5, 1.25, 2)).toBe('1.50× (1.25–2.00)');
    expect(formatPercent(0.123, true)).toBe('+12.3%');
    expect(formatPercent(-0.5, true)).toBe('-50.0%');
    expect(formatPercent(0.038)).toBe('3.80%');
  });
});
