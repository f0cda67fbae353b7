import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { END_MARKER, START_MARKER } from '../readme/replaceBetweenMarkers.ts';
import { resultRow, resultsFile } from '../testing/resultsFile.ts';
import { squeeze } from '../testing/squeeze.ts';
import type { Output } from './output.ts';
import { readmeCommand } from './readmeCommand.ts';

const REPO_DIR = path.resolve(import.meta.dirname, '../../..');
const BIOME = path.join(REPO_DIR, 'node_modules/.bin/biome');
let dir: string;
const lines: string[] = [];
const output: Output = { out: (t) => lines.push(t), err: (t) => lines.push(t) };

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-readme-'));
  await mkdir(path.join(dir, 'bench/results'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = () => ({
  resultsDir: path.join(dir, 'bench/results'),
  readme: path.join(dir, 'README.md'),
  chart: path.join(dir, 'bench/results/ratios.svg'),
});

async function writeResults(
  name: string,
  ratioSamples: number[],
  overrides: Parameters<typeof resultsFile>[1],
) {
  const rows = [
    resultRow({ case: 'rescan/large', contender: 'kiln incremental' }, ratioSamples, [100, 100, 100]),
    resultRow({ suite: 'layer', case: 'write/20k', contender: 'kiln gzip' }, [90, 90, 90], [100, 100, 100]),
  ];
  await writeFile(path.join(dir, 'bench/results', name), JSON.stringify(resultsFile(rows, overrides)));
}

describe('bench readme', () => {
  it('replaces only the text between the markers with the latest full run, per suite, and the chart', async () => {
    const before = `# Kiln\n\nIntro.\n\n## Performance\n\n${START_MARKER}\nold figures\n${END_MARKER}\n\n## After\n\nKept.\n`;
    await writeFile(path.join(dir, 'README.md'), before);
    await writeResults('v0.1.0.json', [60, 60, 60], {
      label: 'v0.1.0',
      createdAt: '2026-11-01T10:00:00.000Z',
    });
    await writeResults('v0.2.0.json', [40, 40, 40], {
      label: 'v0.2.0',
      createdAt: '2026-11-20T10:00:00.000Z',
    });
    // Neither an unfinished run nor a later quick run is what the README shows.
    await writeResults('killed.json', [98, 98, 98], {
      createdAt: '2026-11-21T10:00:00.000Z',
      complete: false,
    });
    await writeResults('quick.json', [99, 99, 99], {
      createdAt: '2026-11-22T10:00:00.000Z',
      options: { quick: true, runs: 3, suites: ['snapshot', 'layer'] },
    });

    await readmeCommand(options(), output);
    const after = await readFile(path.join(dir, 'README.md'), 'utf8');
    const start = after.indexOf(START_MARKER);
    const end = after.indexOf(END_MARKER) + END_MARKER.length;
    expect(after.slice(0, start)).toBe(before.slice(0, before.indexOf(START_MARKER)));
    expect(after.slice(end)).toBe(before.slice(before.indexOf(END_MARKER) + END_MARKER.length));

    const section = after.slice(start, end);
    expect(section).not.toContain('old figures');
    expect(section).toContain('[bench/results/v0.2.0.json](bench/results/v0.2.0.json)');
    expect(section).toContain('### snapshot');
    expect(section).toContain('### layer');
    expect(squeeze(section)).toMatch(
      /\| rescan\/large \| kiln incremental \| 40\.0 ms \| find \(floor\) \| 100 ms \| 0\.400× \(0\.400–0\.400\) \|/,
    );
    expect(section).toContain('![Kiln bench: ratio to baseline](bench/results/ratios.svg)');
    // Both tagged releases appear in the history table, oldest first; the quick run does not.
    expect(squeeze(section)).toMatch(/\| case \| v0\.1\.0 \| v0\.2\.0 \|/);
    expect(squeeze(section)).toMatch(
      /\| snapshot \/ rescan\/large \/ kiln incremental \| 0\.600× \| 0\.400× \|/,
    );
    expect(section).not.toContain('0.990×');
    expect(section).not.toContain('0.980×');

    const chart = await readFile(options().chart, 'utf8');
    expect(chart).toContain('snapshot rescan/large: kiln incremental');
    expect(chart).toContain('v0.2.0');
  });

  it('shows each case from the latest full run that measured it: a case re-run alone hides no other', async () => {
    await writeFile(path.join(dir, 'README.md'), '# Kiln\n');
    await writeResults('v0.2.0.json', [40, 40, 40], {
      label: 'v0.2.0',
      createdAt: '2026-11-20T10:00:00.000Z',
    });
    const layerOnly = [
      resultRow(
        { suite: 'layer', case: 'write/large', contender: 'kiln gzip' },
        [55, 55, 55],
        [100, 100, 100],
      ),
      resultRow({ suite: 'layer', case: 'write/20k', contender: 'kiln gzip' }, [70, 70, 70], [100, 100, 100]),
    ];
    const largeOnly = [
      resultRow(
        { suite: 'layer', case: 'write/large', contender: 'kiln gzip' },
        [50, 50, 50],
        [100, 100, 100],
      ),
    ];
    const save = (name: string, rows: typeof layerOnly, createdAt: string) =>
      writeFile(
        path.join(dir, 'bench/results', name),
        JSON.stringify(resultsFile(rows, { label: name, createdAt })),
      );
    await save('layer-both.json', layerOnly, '2026-11-22T10:00:00.000Z');
    await save('layer-large.json', largeOnly, '2026-11-23T10:00:00.000Z');
    await readmeCommand(options(), output);
    const readme = squeeze(await readFile(path.join(dir, 'README.md'), 'utf8'));
    const snapshot = readme.slice(readme.indexOf('### snapshot'), readme.indexOf('### layer'));
    const layer = readme.slice(readme.indexOf('### layer'), readme.indexOf('![Kiln bench'));
    expect(snapshot).toContain('From [bench/results/v0.2.0.json](bench/results/v0.2.0.json): run v0.2.0');
    expect(snapshot).toMatch(/\| rescan\/large \| kiln incremental \| 40\.0 ms \|/);
    // write/20k from the run before the latest (which did not measure it), write/large from the latest.
    expect(layer).toContain('From [bench/results/layer-both.json](bench/results/layer-both.json)');
    expect(layer).toContain('From [bench/results/layer-large.json](bench/results/layer-large.json)');
    expect(layer).not.toContain('v0.2.0.json');
    expect(layer).toMatch(/\| write\/20k \| kiln gzip \| 70\.0 ms \|/);
    expect(layer).toMatch(/\| write\/large \| kiln gzip \| 50\.0 ms \|/);
    expect(layer).not.toContain('55.0 ms');
    const chart = await readFile(options().chart, 'utf8');
    expect(chart).toContain('layer write/large: kiln gzip');
  });

  it('appends a Performance section with markers when the README has none, and leaves it stable on a re-run', async () => {
    await writeFile(path.join(dir, 'README.md'), '# Kiln\n\nIntro.\n');
    await readmeCommand(options(), output);
    const first = await readFile(path.join(dir, 'README.md'), 'utf8');
    expect(first.startsWith('# Kiln\n\nIntro.\n\n## Performance\n\n<!-- bench:start -->\n')).toBe(true);
    expect(first).toContain('no results are committed yet');
    await expect(readFile(options().chart, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(first.trimEnd().endsWith(END_MARKER)).toBe(true);
    await readmeCommand(options(), output);
    expect(await readFile(path.join(dir, 'README.md'), 'utf8')).toBe(first);
    expect(lines.at(-1)).toContain('unchanged');
  });

  it('refuses a README with only one marker', async () => {
    await writeFile(path.join(dir, 'README.md'), `# Kiln\n\n${START_MARKER}\n`);
    await expect(readmeCommand(options(), output)).rejects.toMatchObject({ code: 'BENCH_README_MARKERS' });
  });

  it('refuses a results file of another schema version', async () => {
    await writeFile(path.join(dir, 'README.md'), '# Kiln\n');
    await writeFile(
      path.join(dir, 'bench/results/old.json'),
      JSON.stringify({ schemaVersion: 0, results: [] }),
    );
    await expect(readmeCommand(options(), output)).rejects.toMatchObject({ code: 'BENCH_SCHEMA_MISMATCH' });
  });
});

describe('the generated README', () => {
  it('is already formatted the way biome formats Markdown, so `biome check` passes after `bench readme`', async () => {
    await writeFile(path.join(dir, 'README.md'), '# Kiln\n\nIntro.\n');
    await writeResults('v0.1.0.json', [60, 61, 59], {
      label: 'v0.1.0',
      createdAt: '2026-11-01T10:00:00.000Z',
    });
    await writeResults('v0.2.0.json', [40, 44, 41], {
      label: 'v0.2.0',
      createdAt: '2026-11-20T10:00:00.000Z',
    });
    await readmeCommand(options(), output);
    const readme = await readFile(path.join(dir, 'README.md'), 'utf8');
    const formatted = execFileSync(
      BIOME,
      ['format', `--config-path=${REPO_DIR}`, '--stdin-file-path=README.md'],
      {
        input: readme,
        encoding: 'utf8',
      },
    );
    expect(formatted).toBe(readme);
  });
});
