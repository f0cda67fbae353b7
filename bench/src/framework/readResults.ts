import { readFile } from 'node:fs/promises';
import { KilnError } from '@kiln/errors';
import { BENCH_SCHEMA_VERSION, type BenchResults } from './resultsSchema.ts';

/** Reads and checks a results file; every way it can be unusable is a one-line KilnError. */
export async function readResults(file: string): Promise<BenchResults> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new KilnError('BENCH_RESULTS_MISSING', `cannot read bench results ${file}`, {
      cause,
      hint: 'produce one with `pnpm bench all --json FILE`',
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new KilnError('BENCH_RESULTS_INVALID', `${file} is not valid JSON`, { cause });
  }
  return checkResults(data, file);
}

export function checkResults(data: unknown, file: string): BenchResults {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new KilnError('BENCH_RESULTS_INVALID', `${file} is not a bench results object`);
  }
  const record = data as Record<string, unknown>;
  if (record.schemaVersion !== BENCH_SCHEMA_VERSION) {
    throw new KilnError(
      'BENCH_SCHEMA_MISMATCH',
      `${file} has bench schema version ${String(record.schemaVersion)}, this bench reads version ${BENCH_SCHEMA_VERSION}`,
      { hint: 're-run the bench to produce a current file' },
    );
  }
  if (!Array.isArray(record.results)) {
    throw new KilnError('BENCH_RESULTS_INVALID', `${file} has no "results" array`);
  }
  record.results.forEach((row: unknown, index) => {
    const r = row as Record<string, unknown> | null;
    const ok =
      typeof r === 'object' &&
      r !== null &&
      typeof r.suite === 'string' &&
      typeof r.case === 'string' &&
      typeof r.contender === 'string' &&
      typeof r.ratio === 'number' &&
      typeof r.ratioLow === 'number' &&
      typeof r.ratioHigh === 'number' &&
      Array.isArray(r.samples) &&
      typeof r.baseline === 'object' &&
      r.baseline !== null;
    if (!ok)
      throw new KilnError('BENCH_RESULTS_INVALID', `${file}: results[${index}] is not a bench result row`);
  });
  if (typeof record.environment !== 'object' || record.environment === null) {
    throw new KilnError('BENCH_RESULTS_INVALID', `${file} has no "environment" object`);
  }
  return data as BenchResults;
}
