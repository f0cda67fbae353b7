import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEnvironment, loadWarning } from './environment.ts';

describe('describeEnvironment', () => {
  it('records the machine and the git commit of the checkout', async () => {
    const env = await describeEnvironment(path.resolve(import.meta.dirname, '../../..'));
    expect(env.cores).toBeGreaterThan(0);
    expect(env.memoryMiB).toBeGreaterThan(0);
    expect(env.kernel).toBe(os.release());
    expect(env.node).toBe(process.version);
    expect(env.gitCommit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('records no commit outside a git checkout', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-env-'));
    try {
      expect((await describeEnvironment(dir)).gitCommit).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('loadWarning', () => {
  it('warns only when the load is high for the core count', () => {
    expect(loadWarning(0.2, 2)).toBeUndefined();
    expect(loadWarning(3.5, 2)).toContain('busy');
  });
});
