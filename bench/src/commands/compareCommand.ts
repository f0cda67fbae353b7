import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KilnError } from '@kiln/errors';
import { compareResults } from '../compare/compareResults.ts';
import { comparisonChart, comparisonMarkdown } from '../compare/comparisonMarkdown.ts';
import { readResults } from '../framework/readResults.ts';
import { ratioChart } from '../report/ratioChart.ts';
import type { Output } from './output.ts';

export interface CompareCommandOptions {
  base: string;
  next: string;
  /** Percent. */
  threshold: number;
  noiseFloor: number;
  reportOnly: boolean;
  markdown?: string;
  svg?: string;
}

/** Prints the Markdown comparison; throws BENCH_REGRESSION (exit 1) on a regression beyond the threshold unless report-only. */
export async function compareCommand(options: CompareCommandOptions, output: Output): Promise<void> {
  const [base, next] = await Promise.all([readResults(options.base), readResults(options.next)]);
  const comparison = compareResults(base, next, {
    threshold: options.threshold / 100,
    noiseFloor: options.noiseFloor / 100,
  });
  const markdown = comparisonMarkdown(comparison, base, next);
  output.out(markdown);
  if (options.markdown) await writeOutput(options.markdown, markdown);
  if (options.svg) await writeOutput(options.svg, ratioChart(comparisonChart(comparison, base, next)));
  const beyond = comparison.rows.filter((row) => row.beyondThreshold);
  if (beyond.length === 0) return;
  const names = beyond.map((row) => `${row.suite}/${row.case}: ${row.contender}`).join(', ');
  if (options.reportOnly) {
    output.err(`report only: ${beyond.length} regression(s) beyond ${options.threshold}% (${names})`);
    return;
  }
  throw new KilnError(
    'BENCH_REGRESSION',
    `${beyond.length} case(s) regressed beyond ${options.threshold}%: ${names}`,
    { hint: 'see the table above; --report-only reports without failing' },
  );
}

async function writeOutput(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, text);
}
