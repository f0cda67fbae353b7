import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { runChecked, runKiln } from './kilnProcess.ts';

let registry: TestRegistry;
let base: PushedImage;
let work: string;
let context: string;

beforeAll(async () => {
  ({ registry, base, work } = await startBusyboxRegistry('kiln-e2e-cache-failures-'));
  context = join(work, 'context');
  await mkdir(context, { recursive: true });
  await writeFile(
    join(context, 'Dockerfile'),
    `ARG BASE\nFROM \${BASE}\nCOPY a.txt /a.txt\nRUN cp /a.txt /b.txt\nRUN echo two > /c.txt\n`,
  );
  await writeFile(join(context, 'a.txt'), 'alpha\n');
});
afterAll(() => stopBusyboxRegistry({ registry, work }));

interface Outcome {
  code: number;
  output: string;
  executedRuns: number;
  cachedSteps: number;
  keys: string[];
  warnings: string[];
  log: string[];
}

async function build(repository: string, extra: string[] = []): Promise<Outcome> {
  const before = (await stat(registry.logFile)).size;
  const result = await runKiln([
    'build',
    '--context',
    context,
    '--build-arg',
    `BASE=${base.reference}`,
    '--destination',
    `${registry.host}/${repository}:latest`,
    '--insecure-registry',
    registry.host,
    '--cache',
    '--log-format',
    'json',
    ...extra,
  ]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const log = (await readFile(registry.logFile)).subarray(before).toString('utf8').split('\n');
  const events = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const cached = new Set(events.filter((e) => e.type === 'step-cached').map((e) => `${e.stage}/${e.step}`));
  return {
    code: result.code,
    output: result.stderr + result.stdout,
    executedRuns: events.filter(
      (e) =>
        e.type === 'step-started' &&
        String(e.instruction).startsWith('RUN') &&
        !cached.has(`${e.stage}/${e.step}`),
    ).length,
    cachedSteps: cached.size,
    keys: events.filter((e) => e.type === 'step-done').map((e) => String(e.cacheKey)),
    warnings: events.filter((e) => e.type === 'warning').map((e) => String(e.message)),
    log,
  };
}

describe('layer cache failures never fail a build', () => {
  it('a corrupt entry (a manifest of something else under the key’s tag) is a miss, then rewritten', {
    timeout: 300_000,
  }, async () => {
    const cold = await build('failures/corrupt');
    expect(cold.code, cold.output).toBe(0);
    expect(cold.executedRuns).toBe(2);
    // Step 3 (the first RUN): replace its entry with the base image's manifest.
    const tag = cold.keys[1]!.replace(':', '-');
    await runChecked('skopeo', [
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${base.reference}`,
      `docker://${registry.host}/failures/corrupt/cache:${tag}`,
    ]);
    const rebuilt = await build('failures/corrupt');
    expect(rebuilt.code, rebuilt.output).toBe(0);
    // The corrupt step re-runs; the one after it has the same key and is a hit again.
    expect(rebuilt.executedRuns).toBe(1);
    expect(rebuilt.keys).toEqual(cold.keys);
    const third = await build('failures/corrupt');
    expect(third.executedRuns).toBe(0);
  });

  it('an unreachable cache repository is a warning per lookup and write; the image is still pushed', {
    timeout: 300_000,
  }, async () => {
    const result = await build('failures/unreachable', [
      '--cache-repo',
      '127.0.0.1:9/nowhere/cache',
      '--insecure-registry',
      '127.0.0.1:9',
      '--push-retry',
      '0',
    ]);
    expect(result.code, result.output).toBe(0);
    expect(result.executedRuns).toBe(2);
    expect(result.warnings.some((w) => w.startsWith('layer cache lookup failed'))).toBe(true);
    expect(result.warnings.some((w) => w.startsWith('layer cache write failed'))).toBe(true);
    expect(result.log.some((line) => line.includes('"PUT /v2/failures/unreachable/manifests/latest'))).toBe(
      true,
    );
  });

  it('--no-push-cache writes no entry; --cache-run-layers/--cache-copy-layers=false skip the cache; --cache-ttl expires entries', {
    timeout: 300_000,
  }, async () => {
    const readOnly = await build('failures/readonly', ['--no-push-cache']);
    expect(readOnly.code, readOnly.output).toBe(0);
    expect(readOnly.log.filter((line) => line.includes('/failures/readonly/cache/'))).not.toContainEqual(
      expect.stringMatching(/"(PUT|POST|PATCH) /),
    );
    const again = await build('failures/readonly');
    expect(again.executedRuns).toBe(2);
    const hit = await build('failures/readonly');
    expect(hit.executedRuns).toBe(0);
    // --cache-run-layers=false re-runs every RUN; --cache-copy-layers=false re-copies, and the RUNs still hit.
    const noRun = await build('failures/readonly', ['--cache-run-layers=false']);
    expect(noRun.code, noRun.output).toBe(0);
    expect(noRun.executedRuns).toBe(2);
    expect(noRun.cachedSteps).toBe(1);
    const noCopy = await build('failures/readonly', ['--cache-copy-layers=false']);
    expect(noCopy.code, noCopy.output).toBe(0);
    expect(noCopy.executedRuns).toBe(0);
    expect(noCopy.cachedSteps).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await build('failures/readonly', ['--cache-ttl', '1s']);
    expect(expired.code, expired.output).toBe(0);
    expect(expired.executedRuns).toBe(2);
  });
});
