import type { CaseResult, ContenderStats } from './resultsSchema.ts';
import type { CaseRuns, ContenderRuns, RunRecord } from './runCase.ts';
import { estimateRatio, median, summarize } from './statistics.ts';
import type { BenchCase, BenchTarget } from './suite.ts';

/** One result row per contender, each carrying the baseline it was measured against. */
export function caseResults(suite: string, benchCase: BenchCase, runs: CaseRuns): CaseResult[] {
  const baseline = contenderStats(runs.baseline);
  return runs.contenders.map((contender) => {
    const { name, ...stats } = contenderStats(contender);
    const estimate = estimateRatio(stats.samples, baseline.samples);
    const row: CaseResult = {
      suite,
      case: benchCase.name,
      contender: name,
      metric: 'wall-time',
      unit: 'ms',
      ...stats,
      baseline,
      ratio: estimate.ratio,
      ratioLow: estimate.low,
      ratioHigh: estimate.high,
    };
    const targets = benchCase.targets?.filter((t) => t.contender === name) ?? [];
    const target = targets.find((t) => t.against === undefined);
    if (target) {
      const { contender: _, ...bounds } = target;
      row.target = bounds;
      if (target.maxRatio !== undefined || target.minRatio !== undefined || target.maxMs !== undefined) {
        row.target.met =
          (target.maxRatio === undefined || estimate.ratio <= target.maxRatio) &&
          (target.minRatio === undefined || estimate.ratio >= target.minRatio) &&
          (target.maxMs === undefined || stats.median <= target.maxMs);
      }
    }
    const relative = targets.find((t) => t.against !== undefined);
    if (relative) row.relativeTarget = relativeTarget(relative, stats.samples, runs);
    return row;
  });
}

/** A target on the ratio to another contender of the same case, from the same interleaved rounds. */
function relativeTarget(
  target: BenchTarget,
  samples: number[],
  runs: CaseRuns,
): NonNullable<CaseResult['relativeTarget']> {
  const against = target.against!;
  const other = [runs.baseline, ...runs.contenders].find((c) => c.name === against);
  if (other === undefined) throw new Error(`target of ${target.contender}: no contender named ${against}`);
  const estimate = estimateRatio(samples, contenderStats(other).samples);
  const result: NonNullable<CaseResult['relativeTarget']> = {
    against,
    ratio: estimate.ratio,
    ratioLow: estimate.low,
    ratioHigh: estimate.high,
  };
  if (target.maxRatio !== undefined) result.maxRatio = target.maxRatio;
  if (target.minRatio !== undefined) result.minRatio = target.minRatio;
  if (target.note !== undefined) result.note = target.note;
  if (target.maxRatio !== undefined || target.minRatio !== undefined) {
    result.met =
      (target.maxRatio === undefined || estimate.ratio <= target.maxRatio) &&
      (target.minRatio === undefined || estimate.ratio >= target.minRatio);
  }
  return result;
}

/** Throughput only where work was reported: a run that moved 0 bytes has no MB/s to speak of. */
export function contenderStats(contender: ContenderRuns): ContenderStats {
  const samples = contender.runs.map((r) => round3(r.ms));
  const stats: ContenderStats = { name: contender.name, samples, ...summarize(samples) };
  const mbPerSec = medianOf(contender.runs, (r) => (r.bytes ? r.bytes / 1e6 / (r.ms / 1e3) : undefined));
  if (mbPerSec !== undefined) stats.mbPerSec = round3(mbPerSec);
  const filesPerSec = medianOf(contender.runs, (r) => (r.files ? r.files / (r.ms / 1e3) : undefined));
  if (filesPerSec !== undefined) stats.filesPerSec = round3(filesPerSec);
  // A contender that measured its own process in any run is described by those runs alone.
  const rssSource = contender.runs.some((r) => r.rssSource === 'process') ? 'process' : 'in-process-delta';
  const rss = contender.runs.filter((r) => r.rssMiB !== undefined && r.rssSource === rssSource);
  if (rss.length > 0) {
    stats.peakRssMiB = round3(Math.max(...rss.map((r) => r.rssMiB!)));
    stats.rssSource = rssSource;
  }
  const extraNames = new Set(contender.runs.flatMap((r) => Object.keys(r.extra ?? {})));
  if (extraNames.size > 0) {
    stats.extra = {};
    for (const extraName of extraNames) {
      const value = medianOf(contender.runs, (r) => r.extra?.[extraName]);
      if (value !== undefined) stats.extra[extraName] = round3(value);
    }
  }
  return stats;
}

function medianOf(runs: RunRecord[], pick: (r: RunRecord) => number | undefined): number | undefined {
  const values = runs.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return values.length === 0 ? undefined : median(values);
}

/** Microsecond resolution is all a wall-clock figure on a shared machine can claim, and keeps the JSON small. */
function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
