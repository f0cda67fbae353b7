import { KilnError } from '@kiln/errors';
import { describe, expect, it } from 'vitest';
import { captureOutput } from '../testing/captureOutput.ts';
import { createReporter } from './createReporter.ts';

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
    reporter.finish({ digest, destinations: ['r.example/app:1'] });
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
    reporter.finish({ digest, destinations: [] });
    expect(output.err.endsWith('\x1b[1A\x1b[0J')).toBe(true);
    expect(output.out).toBe(`${digest}\n`);
  });
});
