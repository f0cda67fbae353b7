import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import type { XattrHelperCommand } from './xattrHelper.ts';

/**
 * Helper processes started ahead of the snapshot that will use them. Starting one costs this thread a
 * fork of the whole (≈100 MB) Node process plus the helper's exec: a builder starts the next one while
 * it waits anyway (the base image's manifest, a RUN's command), and the snapshot then finds it ready.
 * `walk` and `rescan` read all of their request (or its header) from stdin before they open their
 * working directory, so a spare does nothing but wait until it is used.
 */
interface Spare {
  child: ChildProcessWithoutNullStreams;
  failed: boolean;
}

const spares = new Map<string, Spare>();

function keyOf(helper: XattrHelperCommand, cwd: string): string {
  return [helper.command, ...helper.args, cwd].join('\0');
}

function start(helper: XattrHelperCommand, cwd: string): ChildProcessWithoutNullStreams {
  return spawn(helper.command, helper.args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Starts `helper` in `cwd` for a later `spawnHelper` with the same arguments (one spare each). */
export function prestartHelper(helper: XattrHelperCommand, cwd: string): void {
  const key = keyOf(helper, cwd);
  if (spares.has(key)) return;
  let child: ChildProcessWithoutNullStreams;
  try {
    child = start(helper, cwd);
  } catch {
    return;
  }
  const spare: Spare = { child, failed: false };
  // Not started (ENOENT), or gone since: never handed out (whoever spawns then sees the error itself).
  child.on('error', () => {
    spare.failed = true;
  });
  child.on('exit', () => {
    spare.failed = true;
  });
  child.stdin.on('error', () => {});
  spares.set(key, spare);
}

/**
 * `helper` running in `cwd`: the spare started for it if that one is still waiting and its working
 * directory is still `cwd` itself (not a directory removed and made again at that path since), else a
 * process started now.
 */
export function spawnHelper(helper: XattrHelperCommand, cwd: string): ChildProcessWithoutNullStreams {
  const key = keyOf(helper, cwd);
  const spare = spares.get(key);
  if (spare !== undefined) {
    spares.delete(key);
    if (usable(spare, cwd)) return spare.child;
    spare.child.kill();
  }
  return start(helper, cwd);
}

function usable(spare: Spare, cwd: string): boolean {
  const { child } = spare;
  if (spare.failed || child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return false;
  try {
    const theirs = statSync(`/proc/${child.pid}/cwd`, { bigint: true });
    const ours = statSync(cwd, { bigint: true });
    return theirs.dev === ours.dev && theirs.ino === ours.ino;
  } catch {
    return false;
  }
}

/** Ends every spare not handed out (a build's end): they were waiting on stdin, nothing is lost. */
export function discardSpareHelpers(): void {
  for (const spare of spares.values()) spare.child.kill();
  spares.clear();
}

/** How many spares wait (for tests). */
export function spareHelperCount(): number {
  return spares.size;
}
