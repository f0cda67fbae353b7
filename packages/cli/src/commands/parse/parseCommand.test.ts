import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../index.ts';
import { captureOutput } from '../../testing/captureOutput.ts';

const mainScript = fileURLToPath(new URL('../../main.ts', import.meta.url));
let dir: string;
let good: string;
let bad: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-parse-'));
  good = join(dir, 'Dockerfile');
  bad = join(dir, 'Bad.Dockerfile');
  await writeFile(
    good,
    '# syntax=docker/dockerfile:1\nFROM alpine AS base\nRUN <<EOF\napk add curl\nEOF\nCOPY --link . \\\n  /app\n',
  );
  await writeFile(bad, 'FROM alpine\nCOPY --form=build . /app\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('kiln parse', () => {
  it('prints the AST as JSON with --json', async () => {
    const output = captureOutput();
    expect(await runCli(['parse', good, '--json'], output)).toBe(0);
    const ast = JSON.parse(output.out);
    expect(ast.fileName).toBe(good);
    expect(ast.directives).toEqual([{ name: 'syntax', value: 'docker/dockerfile:1', line: 1 }]);
    expect(ast.instructions.map((instruction: { kind: string }) => instruction.kind)).toEqual([
      'FROM',
      'RUN',
      'COPY',
    ]);
    expect(ast.instructions[1].heredocs).toEqual([
      { name: 'EOF', content: 'apk add curl\n', expand: true, chomp: false, startLine: 4, endLine: 5 },
    ]);
    expect(output.err).toBe('');
  });

  it('prints a readable listing by default', async () => {
    const output = captureOutput();
    expect(await runCli(['parse', good], output)).toBe(0);
    expect(output.out).toBe(
      `${good}: 3 instructions\n` +
        '  directive syntax=docker/dockerfile:1 (line 1)\n' +
        '    2  FROM alpine AS base\n' +
        '  3-5  RUN <<EOF\n' +
        '         <<EOF: 1 line, expands variables\n' +
        '  6-7  COPY --link . /app\n',
    );
  });

  it('fails with one line naming the file, the line and the problem', async () => {
    const output = captureOutput();
    expect(await runCli(['parse', bad], output)).toBe(1);
    expect(output.err).toBe(
      `error: ${bad}:2: unknown flag --form (COPY accepts --from, --chown, --chmod, --link, --parents, --exclude): "COPY --form=build . /app"`,
    );
    expect(output.out).toBe('');
  });

  it('reports a missing file', async () => {
    const output = captureOutput();
    expect(await runCli(['parse', join(dir, 'nope')], output)).toBe(1);
    expect(output.err).toMatch(/^error: cannot find .*nope\n {2}hint: /);
  });

  it('runs as a real process: stdin, exit code and a stderr without a stack trace', () => {
    const ok = spawnSync(process.execPath, [mainScript, 'parse', '-', '--json'], {
      input: 'from busybox\nCMD ["sh"]\n',
      encoding: 'utf8',
    });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).instructions[1]).toEqual({
      kind: 'CMD',
      startLine: 2,
      endLine: 2,
      raw: 'CMD ["sh"]',
      flags: [],
      form: 'exec',
      args: ['sh'],
      heredocs: [],
    });

    const failed = spawnSync(process.execPath, [mainScript, 'parse', '-'], {
      input: 'FROM a\nENV DEBUG\n',
      encoding: 'utf8',
    });
    expect(failed.status).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toBe(
      'error: <stdin>:2: ENV DEBUG has no value (expected ENV DEBUG=value or ENV DEBUG value): "ENV DEBUG"\n',
    );
  });

  const deepExpansion = `FROM a\nENV X=${'${a:-'.repeat(20_000)}x${'}'.repeat(20_000)}\n`;
  const hugeLine = `FROM a\nBOGUS \u001b]0;pwned\u0007${'y'.repeat(2_000_000)}\n`;
  for (const [name, text] of [
    ['a 20,000-deep substitution', deepExpansion],
    ['a 2 MB line with terminal escapes', hugeLine],
    ['NULs and invalid UTF-8', 'FROM a\nRUN \u0000\ud800 "\nCOPY <<EOF\n'],
  ] as const) {
    it(`a hostile Dockerfile (${name}) exits non-zero with one short line on stderr, no stack`, async () => {
      const file = join(dir, `hostile-${name.length}`);
      await writeFile(file, text);
      const result = spawnSync(process.execPath, [mainScript, 'parse', file], { encoding: 'utf8' });
      expect(result.status).not.toBe(0);
      expect(result.status).not.toBe(70);
      const lines = result.stderr.split('\n').filter((line) => line !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^error: ${file}:\\d+: `));
      expect(lines[0]!.length).toBeLessThan(1000);
      expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    });
  }

  it('an internal error is one line without its stack, unless -v debug', async () => {
    const broken = {
      ...captureOutput(),
      write: () => {
        throw new TypeError('the output broke');
      },
    };
    const errors: string[] = [];
    broken.error = (text: string) => errors.push(text);
    expect(await runCli(['parse', good], broken)).toBe(70);
    expect(errors.join('\n')).toMatch(/^internal error: TypeError: the output broke\n {2}hint: .*-v debug$/);
    expect(errors.join('\n')).not.toMatch(/\n\s+at /);
  });
});
