import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runCli } from '../../index.ts';
import { captureOutput } from '../../testing/captureOutput.ts';

let temp: string | undefined;
afterEach(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
  temp = undefined;
});

it('summarises a snapshot, saves it, and prints the changes since the saved one', async () => {
  temp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-snapshot-'));
  const root = path.join(temp, 'root');
  mkdirSync(path.join(root, 'd'), { recursive: true });
  writeFileSync(path.join(root, 'd/a'), 'one');
  writeFileSync(path.join(root, 'b'), 'two');
  const saved = path.join(temp, 'snap.bin');

  const first = captureOutput();
  expect(await runCli(['snapshot', root, '--save', saved, '--strategy', 'full'], first)).toBe(0);
  expect(first.out).toMatch(/: 3 entries, 2 files hashed \(6 B\), \d+ms \[full\]/);

  writeFileSync(path.join(root, 'd/a'), 'ONE');
  rmSync(path.join(root, 'b'));
  writeFileSync(path.join(root, 'c'), 'new');
  const text = captureOutput();
  expect(await runCli(['snapshot', root, '--against', saved], text)).toBe(0);
  expect(text.out).toContain('1 added, 1 modified, 1 deleted');
  expect(text.out).toContain('  M d/a (content)');

  const json = captureOutput();
  expect(await runCli(['snapshot', root, '--against', saved, '--json', '--threads', '1'], json)).toBe(0);
  expect(JSON.parse(json.out).changes).toEqual([
    { path: 'b', kind: 'deleted' },
    { path: 'c', kind: 'added' },
    { path: 'd/a', kind: 'modified', reasons: ['content'] },
  ]);
});

it('--log-format json: the snapshot’s events, then the report as the result line', async () => {
  temp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-snapshot-'));
  writeFileSync(path.join(temp, 'a'), 'one');
  const output = captureOutput();
  expect(await runCli(['snapshot', temp, '--log-format', 'json', '--threads', '1'], output)).toBe(0);
  const lines = output.out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; event?: { type: string }; [key: string]: unknown });
  expect(lines.filter((line) => line.type === 'snapshot').map((line) => line.event?.type)).toEqual(
    expect.arrayContaining(['snapshot-start', 'snapshot-done']),
  );
  expect(lines.at(-1)).toMatchObject({ type: 'result', root: temp, stats: { entries: 1 } });
  expect(output.err).toBe('');
});

it('fails with a clear error for a missing directory or a bad saved file', async () => {
  temp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-snapshot-'));
  const missing = captureOutput();
  expect(await runCli(['snapshot', path.join(temp, 'nope')], missing)).toBe(1);
  expect(missing.err).toMatch(/^error: .*does not exist/);
  writeFileSync(path.join(temp, 'bad'), 'junk');
  const bad = captureOutput();
  expect(await runCli(['snapshot', temp, '--against', path.join(temp, 'bad')], bad)).toBe(1);
  expect(bad.err).toContain('not a saved Kiln snapshot');
  expect(await runCli(['snapshot', temp, '--strategy', 'fast'], captureOutput())).toBe(2);
});

it('refuses a saved snapshot whose paths were tampered with, in one line, when kiln-xattr rescans', async () => {
  const { compileXattrHelper, gcc } = await import('../../../../snapshot/src/testTree.ts');
  if (gcc === undefined) return;
  const helper = compileXattrHelper();
  process.env.KILN_XATTR_HELPER = helper.binary;
  try {
    temp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-snapshot-'));
    const root = path.join(temp, 'root');
    mkdirSync(root);
    for (const name of ['a', 'b', 'c']) writeFileSync(path.join(root, name), name);
    const saved = path.join(temp, 'snap.bin');
    expect(await runCli(['snapshot', root, '--save', saved], captureOutput())).toBe(0);
    // `a\0b\0c` becomes `b\0a\0c`: valid UTF-8 and the right count, but out of order for the merge.
    const bytes = readFileSync(saved);
    const at = bytes.indexOf('a\0b\0c');
    expect(at).toBeGreaterThan(0);
    bytes.write('b\0a', at, 'latin1');
    writeFileSync(saved, bytes);
    const output = captureOutput();
    expect(await runCli(['snapshot', root, '--against', saved], output)).toBe(1);
    expect(output.err).toMatch(
      /^error: the saved snapshot is damaged \(malformed input: paths out of order\)\n/,
    );
    expect(output.err).not.toContain('    at ');
  } finally {
    delete process.env.KILN_XATTR_HELPER;
    helper.remove();
  }
});
