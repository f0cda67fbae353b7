import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../../testing/captureOutput.ts';
import { createExecutorCommand } from './executorCommand.ts';

let workspace: string;

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'kiln-workspace-'));
  await writeFile(join(workspace, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  await writeFile(join(workspace, 'hello.txt'), 'hello\n');
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

describe('kiln executor', () => {
  it('builds Kaniko’s default context (/workspace, here a temp dir) with Kaniko’s flag spellings', async () => {
    const output = captureOutput();
    const digestFile = join(workspace, 'digest');
    const command = createExecutorCommand(output, workspace).exitOverride();
    await command.parseAsync(
      ['--no-push=true', `--digest-file=${digestFile}`, '--reproducible', '--cleanup', '-v', 'warn'],
      { from: 'user' },
    );
    const digest = await readFile(digestFile, 'utf8');
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(output.out).toBe(`${digest}\n`);
    expect(output.err).toBe('');
  });
});
