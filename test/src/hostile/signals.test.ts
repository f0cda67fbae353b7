import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from '../busyboxRegistry.ts';
import { repoRoot, runChecked, skopeoInspect } from '../kilnProcess.ts';

let registry: TestRegistry;
let base: PushedImage;
let work: string;
let archiveContext: string;

beforeAll(async () => {
  ({ registry, base, work } = await startBusyboxRegistry('kiln-e2e-signals-'));
  // 1 GiB of zeros as a gzip'd tar (a few MB on disk): unpacking, snapshotting and writing it as a
  // layer takes many seconds, so a signal lands in the middle of the one and only step.
  archiveContext = join(work, 'archive');
  await mkdir(archiveContext, { recursive: true });
  await runChecked('sh', ['-c', 'truncate -s 1G big && tar -cf - big | gzip -1 > big.tar.gz && rm big'], {
    cwd: archiveContext,
  });
  await writeFile(join(archiveContext, 'Dockerfile'), 'FROM scratch\nADD big.tar.gz /\n');
}, 120_000);
afterAll(() => stopBusyboxRegistry({ registry, work }));

interface Interrupted {
  code: number | null;
  /** From the signal to the exit. */
  exitMs: number;
  stdout: string;
  stderr: string;
}

/** Starts `kiln build`, sends `signal` `delayMs` after `marker` shows on stderr, waits for the exit. */
async function buildAndInterrupt(
  args: string[],
  marker: string | RegExp,
  delayMs: number,
  signal: NodeJS.Signals,
): Promise<Interrupted> {
  const child = spawn(process.execPath, [join(repoRoot, 'packages/cli/src/main.ts'), 'build', ...args], {
    env: { ...process.env, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (typeof marker === 'string' ? stderr.includes(marker) : marker.test(stderr)) resolve();
    });
    child.on('close', () => reject(new Error(`kiln ended before ${String(marker)}:\n${stderr}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  const signalled = Date.now();
  child.kill(signal);
  const code = await exited;
  return { code, exitMs: Date.now() - signalled, stdout, stderr };
}

describe('kiln build interrupted mid-step', () => {
  for (const [signal, code, delayMs] of [
    ['SIGTERM', 143, 1000],
    ['SIGINT', 130, 2500],
  ] as const) {
    it(`${signal} ${delayMs} ms into an ADD of a 1 GiB archive: exit ${code} at once, no digest, no manifest, work dir gone`, {
      timeout: 120_000,
    }, async () => {
      const kilnDir = join(work, `add-${signal}`);
      const destination = `${registry.host}/signals/add-${signal.toLowerCase()}:latest`;
      const result = await buildAndInterrupt(
        [
          '--context',
          archiveContext,
          '--destination',
          destination,
          '--insecure-registry',
          registry.host,
          '--kiln-dir',
          kilnDir,
        ],
        'ADD big.tar.gz',
        delayMs,
        signal,
      );
      expect(result.stderr).toContain(`interrupted by ${signal}`);
      expect(result.code).toBe(code);
      expect(result.exitMs).toBeLessThan(2000);
      expect(result.stdout).not.toMatch(/sha256:/);
      expect(result.stderr).not.toMatch(/built sha256:|pushed /);
      expect(await readdir(kilnDir)).toEqual([]);
      expect((await skopeoInspect(destination)).code).not.toBe(0);
    });
  }

  it('SIGTERM during the push: exit 143 at once, no manifest pushed, no digest printed', {
    timeout: 120_000,
  }, async () => {
    const context = join(work, 'push', 'context');
    const kilnDir = join(work, 'push', 'kiln');
    await mkdir(context, { recursive: true });
    // 400 MB of random data, uncompressed: a push of many seconds to the local registry.
    await writeFile(
      join(context, 'Dockerfile'),
      'ARG BASE\nFROM $BASE\nRUN head -c 400000000 /dev/urandom > /big\n',
    );
    const destination = `${registry.host}/signals/push:latest`;
    const result = await buildAndInterrupt(
      [
        '--context',
        context,
        '--destination',
        destination,
        '--insecure-registry',
        registry.host,
        '--build-arg',
        `BASE=${base.reference}`,
        '--compression',
        'none',
        '--kiln-dir',
        kilnDir,
      ],
      // The RUN's layer is the only one: once it is written the image is assembled and pushed.
      /^\s+layer \S+ /m,
      300,
      'SIGTERM',
    );
    expect(result.stderr).toContain('interrupted by SIGTERM');
    expect(result.code).toBe(143);
    expect(result.exitMs).toBeLessThan(2000);
    expect(result.stdout).toBe('');
    // Blobs may have gone up before the signal; the image (`pushed <destination>@<digest>`) never.
    expect(result.stderr).not.toMatch(/^pushed /m);
    expect(result.stderr).not.toMatch(/pushed blob .* 400\.0 MB/);
    expect(await readdir(kilnDir)).toEqual([]);
    expect((await skopeoInspect(destination)).code).not.toBe(0);
  });
});
