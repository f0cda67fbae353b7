import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExecutorImageArgs, UsageError } from './executorImageArgs.ts';

const repo = join(import.meta.dirname, '..');

describe('pnpm executor-image arguments', () => {
  it('--destination HOST[:PORT]/REPO[:TAG] names registry, repository and tag', () => {
    expect(
      parseExecutorImageArgs(['--destination', '127.0.0.1:5000/team/kiln:v1', '--insecure'], repo),
    ).toMatchObject({
      mode: 'build',
      registry: '127.0.0.1:5000',
      repository: 'team/kiln',
      tag: 'v1',
      insecure: true,
    });
    expect(parseExecutorImageArgs(['--destination=reg.example/kiln/executor'], repo)).toMatchObject({
      registry: 'reg.example',
      repository: 'kiln/executor',
      tag: 'latest',
    });
  });

  it('keeps --registry (with --repository and --tag) as the older spelling', () => {
    expect(parseExecutorImageArgs(['--registry', 'localhost:5000'], repo)).toMatchObject({
      registry: 'localhost:5000',
      repository: 'kiln/executor',
      tag: 'latest',
    });
  });

  it('builds both architectures unless --arch names some', () => {
    expect(parseExecutorImageArgs(['--stage-only'], repo).architectures).toEqual(['amd64', 'arm64']);
    expect(
      parseExecutorImageArgs(['--destination', 'reg.example/kiln/executor', '--arch', 'amd64'], repo),
    ).toMatchObject({ mode: 'build', architectures: ['amd64'] });
    expect(parseExecutorImageArgs(['--stage-only', '--arch=arm64,amd64'], repo).architectures).toEqual([
      'arm64',
      'amd64',
    ]);
    expect(() => parseExecutorImageArgs(['--stage-only', '--arch', 'riscv64'], repo)).toThrow(
      /--arch: unknown architecture "riscv64"/,
    );
  });

  it('refuses unknown options and malformed destinations as usage errors', () => {
    expect(() => parseExecutorImageArgs(['--frobnicate'], repo)).toThrow(UsageError);
    expect(() => parseExecutorImageArgs(['--destination', 'no-repository'], repo)).toThrow(UsageError);
    expect(() => parseExecutorImageArgs([], repo)).toThrow(UsageError);
  });

  it('the script prints one line and the usage for an unknown option, exit 2, no stack trace', () => {
    const result = spawnSync(process.execPath, [join(repo, 'scripts/executor-image.ts'), '--frobnicate'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^executor-image: Unknown option '--frobnicate'/);
    expect(result.stderr).toContain('usage:');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
