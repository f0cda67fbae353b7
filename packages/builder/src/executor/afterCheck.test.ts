import { KilnError } from '@kiln/errors';
import { describe, expect, it } from 'vitest';
import { afterCheck } from './afterCheck.ts';
import type { ExecCommand, Executor } from './executor.ts';

function recordingExecutor(ran: string[]): Executor {
  return {
    kind: 'container',
    concurrentStages: false,
    prepareRoot: async () => '/',
    run: async (command) => {
      ran.push(command.argv.join(' '));
      return 0;
    },
    ignoredPaths: () => [],
    dispose: async () => {},
  };
}

const command = (text: string): ExecCommand => ({
  root: '/',
  argv: ['sh', '-c', text],
  env: [],
  cwd: '/',
  user: { uid: 0, gid: 0, groups: [0] },
  network: 'default',
});

describe('afterCheck', () => {
  it('holds a stage root and a command until the check passes', async () => {
    const ran: string[] = [];
    let pass!: () => void;
    const check = new Promise<void>((resolve) => {
      pass = resolve;
    });
    const executor = afterCheck(recordingExecutor(ran), check);
    let prepared = false;
    const root = executor.prepareRoot({ index: 0, name: '0' }).then((path) => {
      prepared = true;
      return path;
    });
    const running = executor.run(command('true'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toEqual([]);
    expect(prepared).toBe(false);
    pass();
    expect(await root).toBe('/');
    expect(await running).toBe(0);
    expect(ran).toEqual(['sh -c true']);
  });

  it("refuses every command with the check's error when it failed, running none", async () => {
    const ran: string[] = [];
    const refused = new KilnError('REGISTRY_HTTP_ERROR', 'push access denied');
    const check = Promise.reject(refused);
    check.catch(() => {});
    const executor = afterCheck(recordingExecutor(ran), check);
    await expect(executor.run(command('echo one'))).rejects.toBe(refused);
    await expect(executor.run(command('echo two'))).rejects.toBe(refused);
    expect(ran).toEqual([]);
    await expect(executor.prepareRoot({ index: 0, name: '0' })).rejects.toBe(refused);
  });
});
