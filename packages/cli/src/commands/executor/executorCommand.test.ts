import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../../testing/captureOutput.ts';
import { createBuildCommand } from '../build/buildCommand.ts';
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

describe('layer compression by default', () => {
  /** The XFL byte of the layer's first gzip member: zlib writes 4 for level 1, 0 for levels 2–8. */
  async function layerXfl(command: Command, args: string[]) {
    const layout = await mkdtemp(join(tmpdir(), 'kiln-layout-'));
    try {
      await command.parseAsync([...args, '--no-push', `--oci-layout-path=${layout}`, '-v', 'warn'], {
        from: 'user',
      });
      const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
      const blob = (digest: string) => join(layout, 'blobs', ...digest.split(':'));
      const manifest = JSON.parse(await readFile(blob(index.manifests[0].digest), 'utf8'));
      const layer = await readFile(blob(manifest.layers[0].digest));
      expect([layer[0], layer[1]]).toEqual([0x1f, 0x8b]);
      return layer[8];
    } finally {
      await rm(layout, { recursive: true, force: true });
    }
  }

  it('is Kaniko’s gzip level (1) in `kiln executor`, and a given --compression-level wins', async () => {
    const executor = () => createExecutorCommand(captureOutput(), workspace).exitOverride();
    expect(await layerXfl(executor(), [])).toBe(4);
    expect(await layerXfl(executor(), ['--compression-level=6'])).toBe(0);
  });

  it('stays zlib’s default (6, as BuildKit) in `kiln build`', async () => {
    const build = createBuildCommand(captureOutput()).exitOverride();
    expect(await layerXfl(build, [`--context=${workspace}`])).toBe(0);
  });
});
