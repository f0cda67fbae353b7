import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkResults } from './readResults.ts';
import { runBench } from './runBench.ts';
import { runCase } from './runCase.ts';
import type { BenchCase, Contender, Suite } from './suite.ts';

function hashing(name: string, bytes: number): Contender {
  const buffer = Buffer.alloc(bytes, 7);
  return {
    name,
    run: async () => {
      createHash('sha256').update(buffer).digest();
      return { bytes };
    },
  };
}

const hashSuite: Suite = {
  name: 'snapshot',
  description: 'sha256 of buffers of three sizes',
  cases: async (ctx) => {
    await writeFile(path.join(ctx.workDir, 'marker'), 'x');
    return [
      {
        name: 'hash',
        baseline: hashing('sha256 1 MiB', 2 ** 20),
        contenders: [hashing('sha256 8 MiB', 8 * 2 ** 20), hashing('sha256 32 KiB', 32 * 2 ** 10)],
        targets: [{ contender: 'sha256 32 KiB', maxRatio: 0.5, note: 'a thirty-second of the work' }],
      },
    ];
  },
  fixtureHashes: async () => ({ buffers: 'sevens' }),
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-run-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runBench', () => {
  it('measures contenders against the baseline and writes a schema-shaped result', async () => {
    const results = await runBench({
      suites: [hashSuite],
      quick: true,
      runs: 3,
      workRoot: path.join(dir, 'work'),
      fixturesDir: path.join(dir, 'fixtures'),
      repoDir: path.resolve(import.meta.dirname, '../../..'),
    });
    expect(results.schemaVersion).toBe(1);
    expect(results.options).toEqual({ quick: true, runs: 3, suites: ['snapshot'] });
    expect(results.environment.fixtures).toEqual({ snapshot: { buffers: 'sevens' } });
    expect(Object.keys(results.suiteSeconds)).toEqual(['snapshot']);
    expect(results.suiteSeconds.snapshot).toBeGreaterThanOrEqual(0);
    expect(results.environment.cores).toBeGreaterThan(0);
    expect(results.failures).toEqual([]);
    expect(await readdir(path.join(dir, 'work', 'snapshot'))).toEqual(['marker']);

    const [slower, faster] = results.results;
    expect(slower?.contender).toBe('sha256 8 MiB');
    expect(slower?.baseline.name).toBe('sha256 1 MiB');
    expect(slower?.samples).toHaveLength(3);
    expect(slower?.baseline.samples).toHaveLength(3);
    expect(slower?.ratio).toBeGreaterThan(1);
    expect(faster?.ratio).toBeLessThan(1);
    expect(faster?.target).toMatchObject({ maxRatio: 0.5, met: true });
    for (const row of results.results) {
      expect(row.ratioLow).toBeLessThanOrEqual(row.ratio);
      expect(row.ratioHigh).toBeGreaterThanOrEqual(row.ratio);
      expect(row.min).toBeLessThanOrEqual(row.median);
      expect(row.median).toBeLessThanOrEqual(row.max);
      expect(row.mbPerSec).toBeGreaterThan(0);
      expect(row.rssSource).toBe('in-process-delta');
    }
    // The file a reader gets back passes the reader's own checks.
    expect(checkResults(JSON.parse(JSON.stringify(results)), 'mem')).toEqual(results);
  });

  it('hands over the results so far after each case, marked incomplete', async () => {
    const twoCases: Suite = {
      ...hashSuite,
      cases: async (ctx) => [
        ...(await hashSuite.cases(ctx)),
        { ...(await hashSuite.cases(ctx))[0]!, name: 'again' },
      ],
    };
    const partials: Array<{ complete: boolean; cases: string[] }> = [];
    const results = await runBench({
      suites: [twoCases],
      quick: true,
      runs: 1,
      workRoot: path.join(dir, 'work'),
      fixturesDir: path.join(dir, 'fixtures'),
      repoDir: dir,
      onPartial: async (partial) => {
        partials.push({
          complete: partial.complete,
          cases: [...new Set(partial.results.map((r) => r.case))],
        });
      },
    });
    expect(partials).toEqual([
      { complete: false, cases: ['hash'] },
      { complete: false, cases: ['hash', 'again'] },
    ]);
    expect(results.complete).toBe(true);
  });

  it('records a failing suite and still runs the next one', async () => {
    const broken: Suite = {
      name: 'layer',
      description: 'throws',
      cases: async () => {
        throw new Error('fixture generator missing');
      },
    };
    const results = await runBench({
      suites: [broken, hashSuite],
      quick: true,
      runs: 1,
      workRoot: path.join(dir, 'work'),
      fixturesDir: path.join(dir, 'fixtures'),
      repoDir: dir,
    });
    expect(results.failures).toEqual([{ suite: 'layer', message: 'fixture generator missing' }]);
    expect(results.results.map((r) => r.suite)).toEqual(['snapshot', 'snapshot']);
  });
});

describe('runCase', () => {
  it('warms up once, then interleaves rounds in a rotating order with an untimed before()', async () => {
    const log: string[] = [];
    const logged = (name: string): Contender => ({
      name,
      before: async () => {
        log.push(`before ${name}`);
      },
      run: async () => {
        log.push(name);
        return { ms: name.length };
      },
    });
    const benchCase: BenchCase = {
      name: 'order',
      baseline: logged('b'),
      contenders: [logged('c1'), logged('c22')],
      setup: async () => {
        log.push('setup');
      },
      teardown: async () => {
        log.push('teardown');
      },
    };
    const runs = await runCase(benchCase, { runs: 3 });
    const measured = log.filter(
      (entry) => !entry.startsWith('before') && entry !== 'setup' && entry !== 'teardown',
    );
    expect(log[0]).toBe('setup');
    expect(log.at(-1)).toBe('teardown');
    expect(measured).toEqual(['b', 'c1', 'c22', 'b', 'c1', 'c22', 'c1', 'c22', 'b', 'c22', 'b', 'c1']);
    expect(log.filter((entry) => entry === 'before c1')).toHaveLength(4);
    expect(runs.baseline.runs.map((r) => r.ms)).toEqual([1, 1, 1]);
    expect(runs.contenders.map((c) => c.runs.map((r) => r.ms))).toEqual([
      [2, 2, 2],
      [3, 3, 3],
    ]);
  });

  it('tears down when a run throws', async () => {
    let tornDown = false;
    const benchCase: BenchCase = {
      name: 'boom',
      baseline: { name: 'b', run: async () => undefined },
      contenders: [
        {
          name: 'c',
          run: async () => {
            throw new Error('boom');
          },
        },
      ],
      teardown: async () => {
        tornDown = true;
      },
    };
    await expect(runCase(benchCase, { runs: 2 })).rejects.toThrow('boom');
    expect(tornDown).toBe(true);
  });

  it('tears down when setup throws', async () => {
    let tornDown = false;
    const benchCase: BenchCase = {
      name: 'half-set-up',
      baseline: { name: 'b', run: async () => undefined },
      contenders: [],
      setup: async () => {
        throw new Error('no space left');
      },
      teardown: async () => {
        tornDown = true;
      },
    };
    await expect(runCase(benchCase, { runs: 1 })).rejects.toThrow('no space left');
    expect(tornDown).toBe(true);
  });

  it('keeps the RSS a contender measured on its own process', async () => {
    const benchCase: BenchCase = {
      name: 'rss',
      baseline: { name: 'b', run: async () => ({ rssMiB: 12 }) },
      contenders: [],
    };
    const runs = await runCase(benchCase, { runs: 1 });
    expect(runs.baseline.runs[0]).toMatchObject({ rssMiB: 12, rssSource: 'process' });
  });
});
