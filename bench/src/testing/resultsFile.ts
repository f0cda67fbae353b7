import { BENCH_SCHEMA_VERSION, type BenchResults, type CaseResult } from '../framework/resultsSchema.ts';
import { estimateRatio, summarize } from '../framework/statistics.ts';

/** Test helper: a result row built from raw samples the way the runner builds it. */
export function resultRow(
  name: { suite?: string; case: string; contender: string },
  samples: number[],
  baselineSamples: number[],
): CaseResult {
  const estimate = estimateRatio(samples, baselineSamples);
  return {
    suite: name.suite ?? 'snapshot',
    case: name.case,
    contender: name.contender,
    metric: 'wall-time',
    unit: 'ms',
    samples,
    ...summarize(samples),
    baseline: { name: 'find (floor)', samples: baselineSamples, ...summarize(baselineSamples) },
    ratio: estimate.ratio,
    ratioLow: estimate.low,
    ratioHigh: estimate.high,
  };
}

export function resultsFile(rows: CaseResult[], overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    schemaVersion: BENCH_SCHEMA_VERSION,
    createdAt: '2026-11-23T19:00:00.000Z',
    complete: true,
    options: {
      quick: false,
      runs: rows[0]?.samples.length ?? 0,
      suites: [...new Set(rows.map((r) => r.suite))],
    },
    environment: {
      cpuModel: 'Test CPU',
      cores: 2,
      memoryMiB: 4096,
      kernel: '6.1.0',
      platform: 'linux',
      arch: 'x64',
      node: 'v24.21.0',
      gitCommit: 'a'.repeat(40),
      loadAverage: { start: 0.1, end: 0.1 },
      fixtures: {},
    },
    suiteSeconds: {},
    results: rows,
    failures: [],
    warnings: [],
    ...overrides,
  };
}
