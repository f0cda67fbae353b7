import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KilnError } from '@kiln/errors';
import type { BenchResults } from '../framework/resultsSchema.ts';
import type { BenchEvent } from '../framework/runBench.ts';
import { runBench } from '../framework/runBench.ts';
import type { Suite } from '../framework/suite.ts';
import { formatMs } from '../report/formatFigures.ts';
import { resultsTable } from '../report/resultsTable.ts';
import type { Output } from './output.ts';

export interface RunCommandOptions {
  /** Suite names, or `all`. */
  names: string[];
  quick: boolean;
  runs: number;
  json: string;
  label?: string;
  workRoot: string;
  fixturesDir: string;
  repoDir: string;
  /** The registered suites; loaded by the caller so compare and readme never import suite code. */
  suites: Suite[];
}

export async function runCommand(options: RunCommandOptions, output: Output): Promise<void> {
  const selected = selectSuites(options.names, options.suites);
  if (selected.length === 0) output.err('warning: no suites are registered in bench/src/suites/index.ts yet');
  const started = process.hrtime.bigint();
  const runOptions = {
    suites: selected,
    quick: options.quick,
    runs: options.runs,
    workRoot: options.workRoot,
    fixturesDir: options.fixturesDir,
    repoDir: options.repoDir,
    onEvent: (event: BenchEvent) => renderEvent(event, output),
    onPartial: (partial: BenchResults) => writeResults(options.json, partial),
  };
  const results = await runBench(
    options.label === undefined ? runOptions : { ...runOptions, label: options.label },
  );
  await writeResults(options.json, results);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  output.out(`\n${results.results.length} result rows in ${formatMs(elapsedMs)}; written to ${options.json}`);
  if (results.failures.length > 0) {
    throw new KilnError(
      'BENCH_SUITE_FAILED',
      `${results.failures.length} suite(s) or case(s) failed: ${results.failures.map((f) => (f.case ? `${f.suite}/${f.case}` : f.suite)).join(', ')}`,
      { hint: `the figures that did run are in ${options.json}` },
    );
  }
}

async function writeResults(file: string, results: BenchResults): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  // Written whole to a temporary name first, so a run killed mid-write never leaves half a file.
  await writeFile(`${file}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

export function selectSuites(names: string[], suites: Suite[]): Suite[] {
  if (names.length === 0 || names.includes('all')) return suites;
  return names.map((name) => {
    const suite = suites.find((s) => s.name === name);
    if (!suite) {
      throw new KilnError('BENCH_UNKNOWN_SUITE', `no bench suite named "${name}"`, {
        hint: `registered: ${suites.map((s) => s.name).join(', ') || 'none yet'}, or all`,
        exitCode: 2,
      });
    }
    return suite;
  });
}

function renderEvent(event: BenchEvent, output: Output): void {
  switch (event.type) {
    case 'suite-start':
      output.out(`\n== ${event.suite}: ${event.description}`);
      break;
    case 'suite-done':
      output.out(`== ${event.suite} took ${formatMs(event.seconds * 1000)}`);
      break;
    case 'note':
      output.out(`   ${event.message}`);
      break;
    case 'case-start':
      output.out(`\n-- ${event.suite} / ${event.case}`);
      break;
    case 'run-done':
      output.status?.(`   round ${event.round + 1}/${event.runs}: ${event.contender} ${formatMs(event.ms)}`);
      break;
    case 'case-done':
      output.status?.('');
      output.out(resultsTable(event.results));
      break;
    case 'failure':
      output.status?.('');
      output.err(`FAILED ${event.suite}${event.case ? ` / ${event.case}` : ''}: ${event.message}`);
      break;
    case 'warning':
      output.err(`warning: ${event.message}`);
      break;
  }
}
