import { describe, expect, it } from 'vitest';
import { resultRow, resultsFile } from '../testing/resultsFile.ts';
import { compareResults, DEFAULT_COMPARE_OPTIONS } from './compareResults.ts';

const baseline = [100, 102, 98, 101, 99];
const row = (samples: number[], name = 'kiln incremental') =>
  resultRow({ case: 'rescan/large', contender: name }, samples, baseline);

describe('compareResults', () => {
  it('calls a clear slowdown with separated ranges a regression and fails the gate past the threshold', () => {
    const comparison = compareResults(
      resultsFile([row([50, 51, 49, 50, 52])]),
      resultsFile([row([70, 71, 69, 72, 70])]),
    );
    const [only] = comparison.rows;
    expect(only?.verdict).toBe('regressed');
    expect(only?.change).toBeCloseTo(0.4, 1);
    expect(only?.beyondThreshold).toBe(true);
    expect(comparison.failed).toBe(true);
    expect(comparison.counts.regressed).toBe(1);
  });

  it('calls a clear speed-up an improvement and does not fail', () => {
    const comparison = compareResults(
      resultsFile([row([50, 51, 49, 50, 52])]),
      resultsFile([row([30, 31, 29, 30, 31])]),
    );
    expect(comparison.rows[0]?.verdict).toBe('improved');
    expect(comparison.failed).toBe(false);
  });

  it('calls a change inside overlapping noisy ranges unchanged, however large the median moved', () => {
    const comparison = compareResults(
      resultsFile([row([50, 90, 40, 55, 52])]),
      resultsFile([row([62, 45, 95, 60, 64])]),
    );
    expect(comparison.rows[0]?.change).toBeGreaterThan(0.1);
    expect(comparison.rows[0]?.verdict).toBe('unchanged');
    expect(comparison.failed).toBe(false);
  });

  it('calls a separated change below the noise floor unchanged', () => {
    const steady = [100, 100, 100, 100, 100];
    const base = resultRow({ case: 'c', contender: 'k' }, [50, 50, 50, 50, 50], steady);
    const next = resultRow({ case: 'c', contender: 'k' }, [51, 51, 51, 51, 51], steady);
    const comparison = compareResults(resultsFile([base]), resultsFile([next]));
    expect(comparison.rows[0]?.verdict).toBe('unchanged');
  });

  it('reports a regression below the threshold without failing the gate', () => {
    const steady = [100, 100, 100];
    const base = resultRow({ case: 'c', contender: 'k' }, [50, 50, 50], steady);
    const next = resultRow({ case: 'c', contender: 'k' }, [54, 54, 54], steady);
    const comparison = compareResults(resultsFile([base]), resultsFile([next]));
    expect(comparison.rows[0]?.verdict).toBe('regressed');
    expect(comparison.rows[0]?.beyondThreshold).toBe(false);
    expect(comparison.failed).toBe(false);
    const strict = compareResults(resultsFile([base]), resultsFile([next]), {
      ...DEFAULT_COMPARE_OPTIONS,
      threshold: 0.05,
    });
    expect(strict.failed).toBe(true);
  });

  it('lists cases present in only one file as added or removed', () => {
    const comparison = compareResults(
      resultsFile([row([50, 50, 50, 50, 50], 'kiln full')]),
      resultsFile([row([50, 50, 50, 50, 50], 'kiln overlay')]),
    );
    expect(comparison.rows.map((r) => [r.contender, r.verdict])).toEqual([
      ['kiln full', 'removed'],
      ['kiln overlay', 'added'],
    ]);
    expect(comparison.failed).toBe(false);
  });

  it('notes different machines, quick mode and changed fixtures', () => {
    const rows = [row([50, 50, 50, 50, 50])];
    const base = resultsFile(rows);
    base.environment.fixtures = { snapshot: { 'rootfs-large': 'abc' } };
    const next = resultsFile(rows, { options: { quick: true, runs: 3, suites: ['snapshot'] } });
    next.environment = {
      ...next.environment,
      cpuModel: 'Other CPU',
      fixtures: { snapshot: { 'rootfs-large': 'def' } },
    };
    next.failures = [{ suite: 'push', message: 'skopeo not installed' }];
    next.complete = false;
    const notes = compareResults(base, next).notes.join('\n');
    expect(notes).toContain('different machines');
    expect(notes).toContain('--quick');
    expect(notes).toContain('snapshot/rootfs-large');
    expect(notes).toContain('failed in the new run: push');
    expect(notes).toContain('the new run did not finish');
    expect(compareResults(base, base).notes).toEqual([]);
  });
});
