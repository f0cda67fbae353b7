/**
 * The contract between the bench runner and its suites. A suite describes its cases;
 * the runner owns repetition, warm-up, interleaving of baseline and contenders, statistics,
 * the JSON result file and the table. Suites never print.
 */

/** What one run of a contender reports. `ms` is taken by the runner when omitted. */
export interface Sample {
  ms?: number;
  /** Peak resident set size of the process doing the work, in MiB (child processes report their own). */
  rssMiB?: number;
  /** Work done, for throughput figures (MB/s, files/s). */
  bytes?: number;
  files?: number;
  /** Any other named figure, e.g. `entries`, `layers`. */
  extra?: Record<string, number>;
}

export interface Contender {
  /** e.g. `find -printf (floor)`, `kiln incremental ×2`. */
  name: string;
  /** One measured run. Return nothing to let the runner time it. */
  run: () => Promise<Sample | undefined>;
  /** Runs before each measured run, untimed (e.g. restore the tree, drop a cache dir). */
  before?: () => Promise<void>;
}

export interface BenchCase {
  /** e.g. `rescan-unchanged/large`. */
  name: string;
  /** The contender every ratio is taken against; measured in the same run, interleaved. */
  baseline: Contender;
  contenders: Contender[];
  /** Untimed setup/teardown around the whole case. */
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  /**
   * Targets to print beside the ratio, e.g. `{ contender: 'kiln full ×2', maxRatio: 0.33 }`.
   * `maxMs` bounds the median time itself (e.g. "under 200 ms"); a target with only a note is shown, not judged.
   * With `against`, the ratio bounded is to that other contender of the case (e.g. ×2 against ×1); a
   * contender may have one target of each kind.
   */
  targets?: BenchTarget[];
}

export interface BenchTarget {
  contender: string;
  against?: string;
  maxRatio?: number;
  minRatio?: number;
  maxMs?: number;
  note?: string;
}

export interface SuiteContext {
  quick: boolean;
  /** Measured runs per contender (after one warm-up). */
  runs: number;
  /** A scratch directory for this suite, emptied before the suite runs. */
  workDir: string;
  /** Where generated fixtures are cached across runs. */
  fixturesDir: string;
  /** Progress notes for the runner to render. */
  note: (message: string) => void;
}

export interface Suite {
  name: 'snapshot' | 'layer' | 'push' | 'build' | 'parse';
  description: string;
  /** Returns the cases; fixtures are prepared here (cached in fixturesDir). */
  cases: (ctx: SuiteContext) => Promise<BenchCase[]>;
  /** Fixture identities (name → content hash) to record in the results. */
  fixtureHashes?: () => Promise<Record<string, string>>;
}
