import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BenchResults } from '../framework/resultsSchema.ts';
import { resultRow, resultsFile } from '../testing/resultsFile.ts';
import { squeeze } from '../testing/squeeze.ts';
import { isBalancedXml } from '../testing/wellFormedXml.ts';

const exec = promisify(execFile);
const MAIN = path.resolve(import.meta.dirname, '../main.ts');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-compare-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, results: BenchResults | string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof results === 'string' ? results : JSON.stringify(results));
  return file;
}

/** Runs the real entry point, as CI would. */
async function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [MAIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const baseline = [100, 101, 99];
const base = resultsFile([
  resultRow({ case: 'rescan/large', contender: 'kiln incremental' }, [50, 51, 49], baseline),
  resultRow({ suite: 'layer', case: 'write/<tiny> & co', contender: 'kiln gzip' }, [80, 81, 79], baseline),
]);
const next = resultsFile(
  [
    resultRow({ case: 'rescan/large', contender: 'kiln incremental' }, [75, 76, 74], baseline),
    resultRow({ suite: 'layer', case: 'write/<tiny> & co', contender: 'kiln gzip' }, [80, 80, 81], baseline),
  ],
  { label: 'v0.2.0' },
);

describe('bench compare', () => {
  it('exits 1 on a regression beyond the threshold, after printing the table, and writes Markdown and SVG', async () => {
    const [b, n] = [await write('base.json', base), await write('new.json', next)];
    const markdown = path.join(dir, 'out/compare.md');
    const svg = path.join(dir, 'out/compare.svg');
    const result = await bench('compare', b, n, '--markdown', markdown, '--svg', svg);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[BENCH_REGRESSION]');
    expect(squeeze(result.stdout)).toMatch(
      /\| snapshot \| rescan\/large \| kiln incremental \| find \(floor\) \|.*\| \+50(\.0)?% \| ❌ regressed/,
    );
    expect(squeeze(result.stdout)).toMatch(/\| layer \| write\/<tiny> & co \| kiln gzip \|.*\| unchanged \|/);
    expect(await readFile(markdown, 'utf8')).toBe(`${result.stdout.trimEnd()}\n`);

    const chart = await readFile(svg, 'utf8');
    expect(chart.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(chart.trimEnd().endsWith('</svg>')).toBe(true);
    expect(chart).toContain('snapshot rescan/large: kiln incremental');
    // The case name's markup characters are escaped, so the file stays well-formed XML.
    expect(chart).toContain('layer write/&lt;tiny&gt; &amp; co: kiln gzip');
    expect(isBalancedXml(chart)).toBe(true);
  });

  it('exits 0 with --report-only and with a higher --threshold', async () => {
    const [b, n] = [await write('base.json', base), await write('new.json', next)];
    const reportOnly = await bench('compare', b, n, '--report-only');
    expect(reportOnly.code).toBe(0);
    expect(reportOnly.stderr).toContain('report only: 1 regression(s)');
    expect((await bench('compare', b, n, '--threshold', '60')).code).toBe(0);
  });

  it('refuses a schema version mismatch, invalid JSON and a missing file with one line and exit 1', async () => {
    const b = await write('base.json', base);
    const old = await write('old.json', JSON.stringify({ ...base, schemaVersion: 0 }));
    const broken = await write('broken.json', '{"schemaVersion": 1,');
    for (const [file, code] of [
      [old, 'BENCH_SCHEMA_MISMATCH'],
      [broken, 'BENCH_RESULTS_INVALID'],
      [path.join(dir, 'missing.json'), 'BENCH_RESULTS_MISSING'],
    ] as const) {
      const result = await bench('compare', b, file);
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n')[0]).toContain(`[${code}]`);
      expect(result.stdout).toBe('');
    }
  });

  it('exits 2 on a usage error', async () => {
    const result = await bench('compare', 'only-one.json');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[BENCH_USAGE]');
  });
});
