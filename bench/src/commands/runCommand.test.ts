import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkResults } from '../framework/readResults.ts';
import type { Suite } from '../framework/suite.ts';
import type { Output } from './output.ts';
import { runCommand, selectSuites } from './runCommand.ts';

const hashing = (name: string, bytes: number) => {
  const buffer = Buffer.alloc(bytes, 1);
  return {
    name,
    run: async () => {
      createHash('sha1').update(buffer).digest();
      return { bytes };
    },
  };
};

const suite = (name: Suite['name'], fail = false): Suite => ({
  name,
  description: `${name} hashing`,
  cases: async (ctx) => {
    ctx.note(`quick=${ctx.quick} runs=${ctx.runs}`);
    if (fail) throw new Error('fixture missing');
    return [
      {
        name: 'hash',
        baseline: hashing('sha1 256 KiB', 2 ** 18),
        contenders: [hashing('sha1 2 MiB', 2 ** 21)],
      },
    ];
  },
});

let dir: string;
let out: string[];
let err: string[];
let status: string[];
let output: Output;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-cmd-'));
  out = [];
  err = [];
  status = [];
  output = { out: (t) => out.push(t), err: (t) => err.push(t), status: (t) => status.push(t) };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const common = () => ({
  quick: true,
  runs: 2,
  json: path.join(dir, 'out/latest.json'),
  workRoot: path.join(dir, 'work'),
  fixturesDir: path.join(dir, 'fixtures'),
  repoDir: dir,
});

describe('runCommand', () => {
  it('runs the named suite, prints its table and writes a readable results file', async () => {
    await runCommand(
      { ...common(), names: ['layer'], suites: [suite('snapshot'), suite('layer')], label: 'v9' },
      output,
    );
    const results = checkResults(JSON.parse(await readFile(common().json, 'utf8')), 'latest.json');
    expect(results.label).toBe('v9');
    expect(results.options.suites).toEqual(['layer']);
    expect(results.results).toHaveLength(1);
    expect(results.results[0]?.ratio).toBeGreaterThan(1);
    const printed = out.join('\n');
    expect(printed).toContain('== layer: layer hashing');
    expect(printed).toContain('quick=true runs=2');
    expect(printed).toMatch(/sha1 256 KiB \(baseline\).*1×/);
    expect(printed).toContain('sha1 2 MiB');
    expect(printed).toMatch(/== layer took \d/);
    // Progress on a terminal: one status line per measured run, cleared before the table.
    expect(status.filter((line) => line.includes('round'))).toHaveLength(4);
    expect(status.at(-1)).toBe('');
  });

  it('writes the figures that ran, then fails with BENCH_SUITE_FAILED when a suite threw', async () => {
    const run = runCommand(
      { ...common(), names: ['all'], suites: [suite('snapshot', true), suite('layer')] },
      output,
    );
    await expect(run).rejects.toMatchObject({ code: 'BENCH_SUITE_FAILED' });
    const results = checkResults(JSON.parse(await readFile(common().json, 'utf8')), 'latest.json');
    expect(results.failures).toEqual([{ suite: 'snapshot', message: 'fixture missing' }]);
    expect(results.results.map((r) => r.suite)).toEqual(['layer']);
    expect(err.join('\n')).toContain('FAILED snapshot: fixture missing');
  });
});

describe('selectSuites', () => {
  it('selects all, or the named suites in the order given, and refuses unknown names with exit code 2', () => {
    const suites = [suite('snapshot'), suite('layer'), suite('push')];
    expect(selectSuites(['all'], suites)).toBe(suites);
    expect(selectSuites(['push', 'snapshot'], suites).map((s) => s.name)).toEqual(['push', 'snapshot']);
    expect(() => selectSuites(['bild'], suites)).toThrowError(
      expect.objectContaining({ code: 'BENCH_UNKNOWN_SUITE', exitCode: 2 }),
    );
  });
});
