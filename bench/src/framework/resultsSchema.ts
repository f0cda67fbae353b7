/**
 * The bench results file, version 1. Documented in bench/README.md; bump `BENCH_SCHEMA_VERSION` on any
 * change a reader of an older file would misread (compare refuses to mix versions).
 */
export const BENCH_SCHEMA_VERSION = 1;

export interface ContenderStats {
  name: string;
  /** Wall time of each measured run in ms, in run order (round i of every contender ran back to back). */
  samples: number[];
  min: number;
  median: number;
  max: number;
  /** (max - min) / median. */
  spread: number;
  /** Median throughput, when the contender reported the work done. */
  mbPerSec?: number;
  filesPerSec?: number;
  /** Largest peak RSS over the runs, in MiB; see `rssSource`. */
  peakRssMiB?: number;
  /** `process`: the contender measured its own (child) process; `in-process-delta`: RSS growth of the bench process during the run. */
  rssSource?: 'process' | 'in-process-delta';
  /** Medians of the contender's named extra figures. */
  extra?: Record<string, number>;
}

export interface CaseResult {
  suite: string;
  case: string;
  contender: string;
  metric: 'wall-time';
  unit: 'ms';
  samples: number[];
  min: number;
  median: number;
  max: number;
  spread: number;
  mbPerSec?: number;
  filesPerSec?: number;
  peakRssMiB?: number;
  rssSource?: 'process' | 'in-process-delta';
  extra?: Record<string, number>;
  /** The case's baseline, measured in the same run, interleaved with this contender. */
  baseline: ContenderStats;
  /** median / baseline.median: below 1 means faster than the baseline. */
  ratio: number;
  /** Range of the per-round ratios, containing `ratio`: the noise band. */
  ratioLow: number;
  ratioHigh: number;
  /** `met` is absent when the target has no bound, only a note. */
  target?: { maxRatio?: number; minRatio?: number; maxMs?: number; note?: string; met?: boolean };
  /**
   * A target on the ratio to another contender of the case (`against`), e.g. ×2 against ×1: `ratio`
   * and its per-round range are taken from the same interleaved rounds as `ratio` above.
   */
  relativeTarget?: {
    against: string;
    maxRatio?: number;
    minRatio?: number;
    note?: string;
    ratio: number;
    ratioLow: number;
    ratioHigh: number;
    met?: boolean;
  };
}

export interface BenchEnvironment {
  cpuModel: string;
  cores: number;
  memoryMiB: number;
  kernel: string;
  platform: string;
  arch: string;
  node: string;
  gitCommit: string | null;
  /** 1-minute load average when the run started and ended. */
  loadAverage: { start: number; end: number };
  /** suite → fixture name → content hash. */
  fixtures: Record<string, Record<string, string>>;
}

export interface BenchResults {
  schemaVersion: typeof BENCH_SCHEMA_VERSION;
  createdAt: string;
  /** false in the file written after each case; true once every suite has run (or failed). */
  complete: boolean;
  /** e.g. a release tag; free text. */
  label?: string;
  options: { quick: boolean; runs: number; suites: string[] };
  environment: BenchEnvironment;
  /** Wall time of each suite that ran, fixture preparation included, in seconds. */
  suiteSeconds: Record<string, number>;
  results: CaseResult[];
  /** Suites that threw: the run goes on with the others. */
  failures: Array<{ suite: string; case?: string; message: string }>;
  warnings: string[];
}

/** The key compare matches rows on. */
export function resultKey(result: Pick<CaseResult, 'suite' | 'case' | 'contender'>): string {
  return `${result.suite} / ${result.case} / ${result.contender}`;
}
