import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KilnError } from '@kiln/errors';
import type { Sample } from './suite.ts';

export interface MeasureCommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const GNU_TIME = '/usr/bin/time';

/**
 * Runs a command for a contender (a baseline like `tar | gzip`, or a child Kiln process) and returns its
 * peak RSS, read by GNU time from wait4(): the largest process in the tree, pipelines included when the
 * command is `bash -c '…'`. The runner times the call; without GNU time the Sample carries no RSS.
 */
export async function measureCommand(
  command: string,
  args: string[],
  options: MeasureCommandOptions = {},
): Promise<Sample> {
  if (!existsSync(GNU_TIME)) {
    await runToCompletion(command, args, options);
    return {};
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-time-'));
  const report = path.join(dir, 'rss');
  try {
    await runToCompletion(GNU_TIME, ['-f', '%M', '-o', report, command, ...args], options, command);
    const kib = Number.parseInt((await readFile(report, 'utf8')).trim().split('\n').at(-1) ?? '', 10);
    return Number.isFinite(kib) ? { rssMiB: kib / 1024 } : {};
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runToCompletion(
  command: string,
  args: string[],
  options: MeasureCommandOptions,
  shownAs = command,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      // Only the tail matters for the error line.
      stderr = (stderr + chunk).slice(-2000);
    });
    child.on('error', (cause) =>
      reject(new KilnError('BENCH_COMMAND_FAILED', `cannot run ${shownAs}: ${cause.message}`, { cause })),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const last = stderr.trim().split('\n').at(-1) ?? '';
      reject(
        new KilnError(
          'BENCH_COMMAND_FAILED',
          `${shownAs} exited with ${signal ?? code}${last ? `: ${last}` : ''}`,
        ),
      );
    });
  });
}
