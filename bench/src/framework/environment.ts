import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import type { BenchEnvironment } from './resultsSchema.ts';

const run = promisify(execFile);

/** The machine a run happened on, so two result files can be judged comparable (or not). */
export async function describeEnvironment(repoDir: string): Promise<Omit<BenchEnvironment, 'fixtures'>> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    kernel: os.release(),
    platform: os.platform(),
    arch: os.arch(),
    node: process.version,
    gitCommit: await gitCommit(repoDir),
    loadAverage: { start: loadAverage(), end: loadAverage() },
  };
}

async function gitCommit(repoDir: string): Promise<string | null> {
  try {
    const { stdout } = await run('git', ['rev-parse', 'HEAD'], { cwd: repoDir });
    return stdout.trim() || null;
  } catch {
    // Not a git checkout (e.g. an unpacked tarball): the figure is still useful without it.
    return null;
  }
}

export function loadAverage(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

/** A warning when other work competes for the CPUs: ratios survive that better than seconds, but not entirely. */
export function loadWarning(load: number, cores: number): string | undefined {
  if (load < cores * 0.5) return undefined;
  return `load average ${load} on ${cores} cores: the machine is busy, expect noisy figures (ratios hold up better than times)`;
}
