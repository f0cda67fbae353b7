import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { repoRoot } from './kilnProcess.ts';

let registry: TestRegistry;
let base: PushedImage;
let work: string;

beforeAll(async () => {
  ({ registry, base, work } = await startBusyboxRegistry('kiln-e2e-signal-'));
});
afterAll(() => stopBusyboxRegistry({ registry, work }));

describe('kiln build on SIGTERM and SIGINT', () => {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} kills the RUN, removes the work dir and exits ${code}`, { timeout: 60_000 }, async () => {
      const context = join(work, signal, 'context');
      const kilnDir = join(work, signal, 'kiln');
      await mkdir(context, { recursive: true });
      await writeFile(join(context, 'Dockerfile'), 'ARG BASE\nFROM $BASE\nRUN echo started && sleep 60\n');
      const child = spawn(
        process.execPath,
        [
          join(repoRoot, 'packages/cli/src/main.ts'),
          'build',
          '--context',
          context,
          '--no-push',
          '--kiln-dir',
          kilnDir,
          '--insecure-registry',
          registry.host,
          '--build-arg',
          `BASE=${base.reference}`,
        ],
        { env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      const started = Date.now();
      const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes('│ started')) resolve();
        });
        child.on('close', () => reject(new Error(`kiln ended before the RUN started:\n${stderr}`)));
      });
      expect((await readdir(kilnDir)).length).toBe(1);
      const signalled = Date.now();
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(Date.now() - signalled).toBeLessThan(2000);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(stderr).toContain(`interrupted by ${signal}`);
      expect(await readdir(kilnDir)).toEqual([]);
    });
  }
});
