import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { caseResults } from './caseResults.ts';
import { describeEnvironment, loadAverage, loadWarning } from './environment.ts';
import { BENCH_SCHEMA_VERSION, type BenchResults, type CaseResult } from './resultsSchema.ts';
import { runCase } from './runCase.ts';
import type { Suite } from './suite.ts';

/** What the runner reports while it works; the CLI renders these, the runner never prints. */
export type BenchEvent =
  | { type: 'suite-start'; suite: string; description: string }
  | { type: 'suite-done'; suite: string; seconds: number }
  | { type: 'note'; suite: string; message: string }
  | { type: 'case-start'; suite: string; case: string }
  | {
      type: 'run-done';
      suite: string;
      case: string;
      contender: string;
      round: number;
      runs: number;
      ms: number;
    }
  | { type: 'case-done'; suite: string; case: string; results: CaseResult[] }
  | { type: 'failure'; suite: string; case?: string; message: string }
  | { type: 'warning'; message: string };

export interface RunBenchOptions {
  suites: Suite[];
  quick: boolean;
  runs: number;
  /** Each suite gets `<workRoot>/<suite>` as its scratch dir, emptied first. */
  workRoot: string;
  fixturesDir: string;
  /** For the git commit. */
  repoDir: string;
  label?: string;
  onEvent?: (event: BenchEvent) => void;
  /** The results so far (`complete: false`), after each case. */
  onPartial?: (partial: BenchResults) => Promise<void>;
}

/** Runs the suites one after another; a suite or case that throws is recorded and the rest still run. */
export async function runBench(options: RunBenchOptions): Promise<BenchResults> {
  const emit = options.onEvent ?? (() => {});
  const environment = await describeEnvironment(options.repoDir);
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    emit({ type: 'warning', message });
  };
  const startWarning = loadWarning(environment.loadAverage.start, environment.cores);
  if (startWarning) warn(startWarning);

  const results: CaseResult[] = [];
  const failures: BenchResults['failures'] = [];
  const fixtures: Record<string, Record<string, string>> = {};
  const suiteSeconds: Record<string, number> = {};
  await mkdir(options.fixturesDir, { recursive: true });
  // The results so far, as a file; after each case too, so a run that is killed still leaves its figures.
  const snapshot = (complete: boolean, endLoad = loadAverage()): BenchResults => {
    const output: BenchResults = {
      schemaVersion: BENCH_SCHEMA_VERSION,
      createdAt: new Date().toISOString(),
      complete,
      options: { quick: options.quick, runs: options.runs, suites: options.suites.map((s) => s.name) },
      environment: {
        ...environment,
        loadAverage: { start: environment.loadAverage.start, end: endLoad },
        fixtures: { ...fixtures },
      },
      suiteSeconds: { ...suiteSeconds },
      results: [...results],
      failures: [...failures],
      warnings: [...warnings],
    };
    if (options.label !== undefined) output.label = options.label;
    return output;
  };

  for (const suite of options.suites) {
    emit({ type: 'suite-start', suite: suite.name, description: suite.description });
    const started = process.hrtime.bigint();
    const workDir = path.join(options.workRoot, suite.name);
    try {
      await rm(workDir, { recursive: true, force: true });
      await mkdir(workDir, { recursive: true });
      const cases = await suite.cases({
        quick: options.quick,
        runs: options.runs,
        workDir,
        fixturesDir: options.fixturesDir,
        note: (message) => emit({ type: 'note', suite: suite.name, message }),
      });
      for (const benchCase of cases) {
        emit({ type: 'case-start', suite: suite.name, case: benchCase.name });
        try {
          const runs = await runCase(benchCase, {
            runs: options.runs,
            onRun: (contender, round, record) =>
              emit({
                type: 'run-done',
                suite: suite.name,
                case: benchCase.name,
                contender,
                round,
                runs: options.runs,
                ms: record.ms,
              }),
          });
          const rows = caseResults(suite.name, benchCase, runs);
          results.push(...rows);
          emit({ type: 'case-done', suite: suite.name, case: benchCase.name, results: rows });
          await options.onPartial?.(snapshot(false));
        } catch (error) {
          const message = describeError(error);
          failures.push({ suite: suite.name, case: benchCase.name, message });
          emit({ type: 'failure', suite: suite.name, case: benchCase.name, message });
        }
      }
      const hashes = await suite.fixtureHashes?.();
      if (hashes) fixtures[suite.name] = hashes;
    } catch (error) {
      const message = describeError(error);
      failures.push({ suite: suite.name, message });
      emit({ type: 'failure', suite: suite.name, message });
    }
    // Fixture generation included: it is what a CI run pays for.
    suiteSeconds[suite.name] = Math.round(Number(process.hrtime.bigint() - started) / 1e7) / 100;
    emit({ type: 'suite-done', suite: suite.name, seconds: suiteSeconds[suite.name]! });
  }

  const end = loadAverage();
  const endWarning = loadWarning(end, environment.cores);
  if (endWarning && !startWarning) warn(`at the end of the run: ${endWarning}`);
  return snapshot(true, end);
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
