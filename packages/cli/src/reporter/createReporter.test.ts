import type { BuildEvent } from '@kiln/builder';
import { KilnError } from '@kiln/errors';
import { describe, expect, it } from 'vitest';
import { captureOutput } from '../testing/captureOutput.ts';
import { createReporter, digestResult } from './createReporter.ts';

const digest = `sha256:${'ab'.repeat(32)}` as const;

describe('createReporter', () => {
  it('plain: one line per step and output line, the result on stdout', () => {
    const output = captureOutput();
    const reporter = createReporter({ format: 'text', verbosity: 'info', output, env: { CI: 'true' } });
    reporter.onEvent({ type: 'stage-started', stage: 'build', index: 0, base: 'alpine', steps: 2 });
    reporter.onEvent({
      type: 'step-started',
      stage: 'build',
      step: 1,
      steps: 2,
      instruction: 'RUN make',
      line: 3,
    });
    reporter.onEvent({ type: 'run-output', stage: 'build', step: 1, stream: 'stdout', line: 'compiling' });
    reporter.onEvent({
      type: 'layer-written',
      stage: 'build',
      step: 1,
      digest,
      diffId: digest,
      size: 2048,
      ms: 12,
    });
    reporter.finish(digestResult(digest, ['r.example/app:1']));
    expect(output.err).toBe(
      '[build] FROM alpine\n[build 1/2] RUN make\n  │ compiling\n  layer abababababab 2.0 kB (12ms)\n',
    );
    expect(output.out).toBe(`${digest}\nr.example/app:1@${digest}\n`);
  });

  it('colours only on a terminal outside CI', () => {
    const tty = captureOutput(true);
    createReporter({ format: 'text', verbosity: 'info', output: tty, env: {} }).onEvent({
      type: 'warning',
      message: 'careful',
    });
    expect(tty.err).toContain('\x1b[33m');
    const ci = captureOutput(true);
    createReporter({ format: 'text', verbosity: 'info', output: ci, env: { CI: '1' } }).onEvent({
      type: 'warning',
      message: 'careful',
    });
    expect(ci.err).toBe('warning: careful\n');
  });

  it('json: one event per line on stdout, errors with their code', () => {
    const output = captureOutput();
    const reporter = createReporter({ format: 'json', verbosity: 'info', output, env: {} });
    reporter.onEvent({ type: 'step-cached', stage: 's', step: 1, cacheKey: 'k' });
    reporter.fail(new KilnError('RUN_FAILED', 'boom', { exitCode: 3 }));
    const lines = output.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: 'step-cached', stage: 's', cacheKey: 'k' });
    expect(lines[1]).toMatchObject({ type: 'error', code: 'RUN_FAILED', exitCode: 3, message: 'boom' });
  });

  it('warn verbosity hides step lines', () => {
    const output = captureOutput();
    const reporter = createReporter({ format: 'text', verbosity: 'warn', output, env: {} });
    reporter.onEvent({ type: 'step-started', stage: 'b', step: 1, steps: 1, instruction: 'RUN x', line: 1 });
    expect(output.err).toBe('');
  });

  it('live (a terminal outside CI): a footer shows running steps and is redrawn in place', () => {
    const output = captureOutput(true);
    const reporter = createReporter({ format: 'text', verbosity: 'info', output, env: {} });
    reporter.onEvent({
      type: 'step-started',
      stage: 'build',
      step: 1,
      steps: 2,
      instruction: 'RUN make',
      line: 3,
    });
    expect(output.err).toMatch(/⠋ \[build 1\/2\] RUN make \(\d+ms\)\n$/);
    reporter.onEvent({ type: 'run-output', stage: 'build', step: 1, stream: 'stdout', line: 'compiling' });
    // The footer (1 row) is erased before the output line is printed and the footer redrawn.
    expect(output.err).toContain('\x1b[1A\x1b[0J');
    expect(output.err).toMatch(/│ compiling\x1b\[0m\n$/);
    reporter.onEvent({ type: 'step-done', stage: 'build', step: 1, ms: 5, cacheKey: 'k', emptyLayer: true });
    reporter.finish(digestResult(digest, []));
    expect(output.err.endsWith('\x1b[1A\x1b[0J')).toBe(true);
    expect(output.out).toBe(`${digest}\n`);
  });

  // One event of each family the builder forwards, as a build (or pull, push, snapshot) emits them.
  const families: Array<{ event: BuildEvent; text: string }> = [
    { event: { type: 'warning', message: 'careful' }, text: 'warning: careful' },
    {
      event: {
        type: 'registry',
        event: {
          type: 'retry',
          registry: 'r.example',
          operation: 'get manifest',
          attempt: 1,
          delayMs: 200,
          reason: 'HTTP 503',
        },
      },
      text: '  retry 1 of get manifest on r.example in 200ms: HTTP 503',
    },
    {
      event: {
        type: 'registry',
        event: {
          type: 'blob-done',
          direction: 'pull',
          registry: 'r.example',
          repository: 'base',
          digest,
          size: 1500,
        },
      },
      text: '  pulled blob abababababab 1.5 kB from r.example/base',
    },
    {
      event: { type: 'snapshot', stage: 'build', event: { type: 'xattrs-unavailable', reason: 'no helper' } },
      text: 'warning: extended attributes are not recorded: no helper',
    },
    {
      event: {
        type: 'layer',
        stage: 'build',
        event: {
          type: 'extract-xattr-skipped',
          path: 'bin/ping',
          names: ['security.capability'],
          reason: 'EPERM',
        },
      },
      text: 'warning: [build] extended attributes security.capability of bin/ping not restored: EPERM',
    },
  ];

  it('plain: renders a line for each event family (registry, snapshot, layer, the builder own)', () => {
    const output = captureOutput();
    const reporter = createReporter({ format: 'text', verbosity: 'info', output, env: { CI: 'true' } });
    for (const { event } of families) reporter.onEvent(event);
    expect(output.err).toBe(families.map(({ text }) => `${text}\n`).join(''));
  });

  it('live: the same lines above the footer, and a footer of the bytes being pulled', () => {
    const output = captureOutput(true);
    const reporter = createReporter({ format: 'text', verbosity: 'info', output, env: { NO_COLOR: '1' } });
    reporter.onEvent({
      type: 'registry',
      event: {
        type: 'blob-progress',
        direction: 'pull',
        registry: 'r.example',
        repository: 'base',
        digest,
        bytes: 500,
        total: 1500,
      },
    });
    expect(output.err).toMatch(/pulling 500 B \/ 1\.5 kB\n$/);
    for (const { event } of families) reporter.onEvent(event);
    for (const { text } of families) expect(output.err).toContain(`${text}\n`);
    reporter.finish(digestResult(digest, []));
    expect(output.out).toBe(`${digest}\n`);
  });

  it('json: every family is one parseable line holding the event as emitted', () => {
    const output = captureOutput();
    const reporter = createReporter({ format: 'json', verbosity: 'info', output, env: {} });
    for (const { event } of families) reporter.onEvent(event);
    reporter.finish(digestResult(digest, ['r.example/app:1']));
    const lines = output.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map(({ time: _, ...rest }) => rest)).toEqual([
      ...families.map(({ event }) => event),
      { type: 'result', digest, destinations: ['r.example/app:1'] },
    ]);
    expect(output.err).toBe('');
  });

  it('says a warning every snapshot repeats once, and hides retries only below warn', () => {
    const output = captureOutput();
    const reporter = createReporter({ format: 'text', verbosity: 'warn', output, env: { CI: '1' } });
    for (const _ of [1, 2]) reporter.onEvent(families[3]!.event);
    reporter.onEvent(families[1]!.event);
    reporter.onEvent(families[2]!.event);
    expect(output.err).toBe(`${families[3]!.text}\n${families[1]!.text}\n`);
    const quiet = captureOutput();
    createReporter({ format: 'text', verbosity: 'error', output: quiet, env: { CI: '1' } }).onEvent(
      families[1]!.event,
    );
    expect(quiet.err).toBe('');
  });
});
