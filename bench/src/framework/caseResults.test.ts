import { describe, expect, it } from 'vitest';
import { rowTargetText } from '../report/targetText.ts';
import { caseResults } from './caseResults.ts';
import type { CaseRuns } from './runCase.ts';
import type { BenchCase } from './suite.ts';

const run = async () => undefined;
const runs: CaseRuns = {
  baseline: {
    name: 'b',
    runs: [
      { ms: 100, bytes: 0 },
      { ms: 100, bytes: 0 },
      { ms: 120, bytes: 0 },
    ],
  },
  contenders: [
    {
      name: 'k',
      runs: [
        { ms: 40, bytes: 4e6, files: 10, rssMiB: 5, rssSource: 'in-process-delta', extra: { layers: 3 } },
        { ms: 50, bytes: 4e6, files: 10, rssMiB: 80, rssSource: 'process', extra: { layers: 3 } },
        { ms: 60, bytes: 4e6, files: 10, rssMiB: 70, rssSource: 'process', extra: { layers: 5 } },
      ],
    },
  ],
};

describe('caseResults', () => {
  it('derives the ratio, throughput, peak RSS and extras of each contender', () => {
    const benchCase: BenchCase = {
      name: 'c',
      baseline: { name: 'b', run },
      contenders: [{ name: 'k', run }],
    };
    const [row] = caseResults('layer', benchCase, runs);
    expect(row).toMatchObject({ suite: 'layer', case: 'c', contender: 'k', median: 50, ratio: 0.5 });
    expect(row?.ratioLow).toBeCloseTo(0.4);
    expect(row?.ratioHigh).toBeCloseTo(0.5);
    expect(row?.mbPerSec).toBe(80);
    expect(row?.filesPerSec).toBe(200);
    // A process-measured peak wins over in-process deltas from other runs.
    expect(row).toMatchObject({ peakRssMiB: 80, rssSource: 'process', extra: { layers: 3 } });
    // Zero bytes moved is no throughput, not 0 MB/s.
    expect(row?.baseline.mbPerSec).toBeUndefined();
  });

  it('judges ratio and time bounds, and leaves a note-only target unjudged', () => {
    const judged = (target: NonNullable<BenchCase['targets']>[number]) =>
      caseResults(
        'layer',
        { name: 'c', baseline: { name: 'b', run }, contenders: [], targets: [target] },
        runs,
      )[0]?.target;
    expect(judged({ contender: 'k', maxRatio: 0.6 })).toEqual({ maxRatio: 0.6, met: true });
    expect(judged({ contender: 'k', minRatio: 0.6 })).toEqual({ minRatio: 0.6, met: false });
    expect(judged({ contender: 'k', maxMs: 45 })).toEqual({ maxMs: 45, met: false });
    expect(judged({ contender: 'k', note: 'under 200 ms' })).toEqual({ note: 'under 200 ms' });
  });

  it('judges a target against another contender of the case, from the same rounds', () => {
    const withTwo: CaseRuns = {
      ...runs,
      contenders: [...runs.contenders, { name: 'k×1', runs: [{ ms: 80 }, { ms: 100 }, { ms: 90 }] }],
    };
    const benchCase: BenchCase = {
      name: 'c',
      baseline: { name: 'b', run },
      contenders: [],
      targets: [
        { contender: 'k', maxRatio: 0.6 },
        { contender: 'k', against: 'k×1', maxRatio: 1 / 1.6, note: '≥1.6× faster than k×1' },
      ],
    };
    const [row] = caseResults('snapshot', benchCase, withTwo);
    expect(row?.target).toEqual({ maxRatio: 0.6, met: true });
    expect(row?.relativeTarget).toMatchObject({ against: 'k×1', maxRatio: 0.625, ratio: 50 / 90, met: true });
    // Per round: 40/80, 50/100, 60/90.
    expect(row?.relativeTarget?.ratioLow).toBeCloseTo(0.5);
    expect(row?.relativeTarget?.ratioHigh).toBeCloseTo(0.667, 3);
    expect(rowTargetText(row!, 'MISSED')).toBe('met ≤ 0.6×; met ≤ 0.625× of k×1 (0.556×)');

    const slower = { ...benchCase, targets: [{ contender: 'k', against: 'k×1', minRatio: 0.8 }] };
    expect(caseResults('snapshot', slower, withTwo)[0]?.relativeTarget?.met).toBe(false);
    const unknown = { ...benchCase, targets: [{ contender: 'k', against: 'nobody', maxRatio: 1 }] };
    expect(() => caseResults('snapshot', unknown, withTwo)).toThrow(/no contender named nobody/);
  });
});
