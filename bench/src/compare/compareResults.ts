import type { BenchResults, CaseResult } from '../framework/resultsSchema.ts';
import { resultKey } from '../framework/resultsSchema.ts';

export type Verdict = 'improved' | 'unchanged' | 'regressed' | 'added' | 'removed';

export interface RatioFigure {
  ratio: number;
  low: number;
  high: number;
}

export interface CaseComparison {
  suite: string;
  case: string;
  contender: string;
  baselineName: string;
  base?: RatioFigure;
  next?: RatioFigure;
  /** next.ratio / base.ratio - 1: negative is an improvement (closer to or further below the baseline). */
  change?: number;
  verdict: Verdict;
  /** A regression beyond the threshold: what fails the gate. */
  beyondThreshold: boolean;
}

export interface CompareOptions {
  /** A regression fails the gate only when the ratio grew by more than this fraction (0.1 = 10%). */
  threshold: number;
  /** Changes smaller than this fraction are never called, however tight the ranges. */
  noiseFloor: number;
}

export interface Comparison {
  rows: CaseComparison[];
  counts: Record<Verdict, number>;
  /** Differences that make the two files less comparable (machine, quick mode). */
  notes: string[];
  failed: boolean;
}

export const DEFAULT_COMPARE_OPTIONS: CompareOptions = { threshold: 0.1, noiseFloor: 0.03 };

/**
 * Compares ratios, not times: each file's ratio was measured against a baseline in its own run, so
 * it survives a different or busier machine. A change is called only when the two runs' per-round
 * ratio ranges do not overlap and it exceeds the noise floor; everything else is `unchanged`.
 */
export function compareResults(
  base: BenchResults,
  next: BenchResults,
  options: CompareOptions = DEFAULT_COMPARE_OPTIONS,
): Comparison {
  const baseRows = new Map(base.results.map((row) => [resultKey(row), row]));
  const nextRows = new Map(next.results.map((row) => [resultKey(row), row]));
  const keys = [...baseRows.keys(), ...[...nextRows.keys()].filter((key) => !baseRows.has(key))];
  const rows = keys.map((key) => compareRow(baseRows.get(key), nextRows.get(key), options));
  const counts: Record<Verdict, number> = { improved: 0, unchanged: 0, regressed: 0, added: 0, removed: 0 };
  for (const row of rows) counts[row.verdict]++;
  return {
    rows,
    counts,
    notes: comparabilityNotes(base, next),
    failed: rows.some((row) => row.beyondThreshold),
  };
}

function compareRow(
  base: CaseResult | undefined,
  next: CaseResult | undefined,
  options: CompareOptions,
): CaseComparison {
  const any = (next ?? base)!;
  const row: CaseComparison = {
    suite: any.suite,
    case: any.case,
    contender: any.contender,
    baselineName: any.baseline.name,
    verdict: 'unchanged',
    beyondThreshold: false,
  };
  if (base) row.base = figure(base);
  if (next) row.next = figure(next);
  if (!row.base || !row.next) {
    row.verdict = row.base ? 'removed' : 'added';
    return row;
  }
  const change = row.next.ratio / row.base.ratio - 1;
  row.change = change;
  const overlap = row.next.low <= row.base.high && row.base.low <= row.next.high;
  if (!overlap && Math.abs(change) >= options.noiseFloor) row.verdict = change < 0 ? 'improved' : 'regressed';
  row.beyondThreshold = row.verdict === 'regressed' && change > options.threshold;
  return row;
}

function figure(row: CaseResult): RatioFigure {
  return { ratio: row.ratio, low: row.ratioLow, high: row.ratioHigh };
}

function comparabilityNotes(base: BenchResults, next: BenchResults): string[] {
  const notes: string[] = [];
  const a = base.environment;
  const b = next.environment;
  if (a.cpuModel !== b.cpuModel || a.cores !== b.cores) {
    notes.push(
      `different machines (${a.cpuModel}, ${a.cores} cores vs ${b.cpuModel}, ${b.cores} cores): ratios carry over, times do not`,
    );
  }
  if (base.options.quick !== next.options.quick) {
    notes.push(
      'one run used --quick (small fixtures) and the other did not: ratios may differ by fixture size',
    );
  }
  const fixtureChanges = Object.keys(b.fixtures).flatMap((suite) =>
    Object.entries(b.fixtures[suite] ?? {})
      .filter(([name, hash]) => a.fixtures[suite]?.[name] !== undefined && a.fixtures[suite]?.[name] !== hash)
      .map(([name]) => `${suite}/${name}`),
  );
  if (fixtureChanges.length > 0) notes.push(`fixtures changed: ${fixtureChanges.join(', ')}`);
  for (const [which, run] of [
    ['base', base],
    ['new', next],
  ] as const) {
    if (run.complete === false)
      notes.push(`the ${which} run did not finish: its file holds the cases done before it stopped`);
    if (run.failures.length > 0) {
      notes.push(
        `failed in the ${which} run: ${run.failures.map((f) => (f.case ? `${f.suite}/${f.case}` : f.suite)).join(', ')}`,
      );
    }
  }
  return notes;
}
