import { collectGarbage } from './collectGarbage.ts';
import type { BenchCase, Contender, Sample } from './suite.ts';

/** One measured run as the runner saw it. */
export interface RunRecord {
  ms: number;
  rssMiB?: number;
  rssSource?: 'process' | 'in-process-delta';
  bytes?: number;
  files?: number;
  extra?: Record<string, number>;
}

export interface ContenderRuns {
  name: string;
  runs: RunRecord[];
}

export interface CaseRuns {
  baseline: ContenderRuns;
  contenders: ContenderRuns[];
}

export interface RunCaseOptions {
  runs: number;
  /** Called after each measured run (progress display). */
  onRun?: (contender: string, round: number, record: RunRecord) => void;
}

/**
 * Setup, one untimed warm-up per contender, then `runs` rounds in which every contender (baseline
 * included) runs once. The order rotates each round so no contender always runs first (cold caches)
 * or last (a warmed-up machine). Teardown runs even when setup or a run throws.
 */
export async function runCase(benchCase: BenchCase, options: RunCaseOptions): Promise<CaseRuns> {
  const all = [benchCase.baseline, ...benchCase.contenders];
  const runs = all.map((): RunRecord[] => []);
  try {
    // Inside the try: a setup that fails halfway still gets its teardown.
    await benchCase.setup?.();
    for (const contender of all) await measureOnce(contender);
    for (let round = 0; round < options.runs; round++) {
      for (let position = 0; position < all.length; position++) {
        const index = (position + round) % all.length;
        const contender = all[index]!;
        const record = await measureOnce(contender);
        runs[index]!.push(record);
        options.onRun?.(contender.name, round, record);
      }
    }
  } finally {
    await benchCase.teardown?.();
  }
  const [baseline, ...contenders] = all.map((contender, i) => ({ name: contender.name, runs: runs[i]! }));
  return { baseline: baseline!, contenders };
}

async function measureOnce(contender: Contender): Promise<RunRecord> {
  await contender.before?.();
  collectGarbage();
  const rss = startRssWatch();
  const start = process.hrtime.bigint();
  let sample: Sample | undefined;
  let elapsedNs: bigint;
  let rssDeltaMiB: number;
  try {
    sample = await contender.run();
  } finally {
    elapsedNs = process.hrtime.bigint() - start;
    rssDeltaMiB = rss.stop();
  }
  const record: RunRecord = { ms: sample?.ms ?? Number(elapsedNs) / 1e6 };
  if (sample?.rssMiB !== undefined) {
    record.rssMiB = sample.rssMiB;
    record.rssSource = 'process';
  } else {
    record.rssMiB = rssDeltaMiB;
    record.rssSource = 'in-process-delta';
  }
  if (sample?.bytes !== undefined) record.bytes = sample.bytes;
  if (sample?.files !== undefined) record.files = sample.files;
  if (sample?.extra !== undefined) record.extra = sample.extra;
  return record;
}

/**
 * Node cannot reset its peak-RSS counter, so for in-process work the runner polls RSS while the run
 * yields to the event loop and reports the growth over the starting point: a lower bound for the
 * run's own memory, not the process's peak.
 */
function startRssWatch(): { stop: () => number } {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return Math.max(0, peak - start) / 2 ** 20;
    },
  };
}
