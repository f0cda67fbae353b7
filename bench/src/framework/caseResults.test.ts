import { describe, expect, it } from 'vitest';
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
});
