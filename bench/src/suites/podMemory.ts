import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sample } from '../framework/suite.ts';

/** The cgroup v1 memory hierarchy of this machine kind (hybrid layout, cgroupfs manager). */
const memoryRoot = '/sys/fs/cgroup/memory';
const pollMs = 10;
let parentCount = 0;

export interface PodMemory {
  /** `--cgroup-parent` for the container: a cgroup of our own that outlives it. */
  cgroupParent: string;
  /** Stops polling and returns the peaks (none when the hierarchy is not there). */
  stop(): Promise<Pick<Sample, 'rssMiB' | 'extra'>>;
}

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

function statField(stat: string, field: string): number {
  const match = new RegExp(`^${field} (\\d+)$`, 'm').exec(stat);
  return match ? Number(match[1]) : 0;
}

/**
 * Watches the memory of one container run: podman puts the container's cgroup under a parent we create,
 * so its figures survive the container's removal. Peak RSS is the largest `total_rss` (anonymous memory
 * of every process in it) seen every 10 ms: what the build itself holds. `cgroupPeakMiB` is the kernel's
 * `memory.max_usage_in_bytes`, page cache of written files included: what a pod's memory limit counts.
 */
export async function watchPodMemory(): Promise<PodMemory> {
  const name = `kiln-bench-${process.pid}-${++parentCount}`;
  const dir = join(memoryRoot, name);
  if (!existsSync(memoryRoot)) {
    return { cgroupParent: `/${name}`, stop: async () => ({}) };
  }
  await mkdir(dir);
  let peakRss = 0;
  let polling = true;
  const poll = async () => {
    while (polling) {
      try {
        peakRss = Math.max(peakRss, statField(await readFile(join(dir, 'memory.stat'), 'utf8'), 'total_rss'));
      } catch {
        // Between podman creating and removing the child cgroup the file is always there; ignore races.
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  };
  const poller = poll();
  return {
    cgroupParent: `/${name}`,
    async stop() {
      polling = false;
      await poller;
      const max = Number((await readFile(join(dir, 'memory.max_usage_in_bytes'), 'utf8')).trim());
      // podman made the parent in every controller; leave none behind. The container's own cgroup may
      // still be emptying just after podman returns, so a few tries.
      for (let attempt = 0; attempt < 20; attempt++) {
        let left = false;
        for (const controller of await readdir('/sys/fs/cgroup')) {
          const leftover = join('/sys/fs/cgroup', controller, name);
          if (existsSync(leftover)) await removeTree(leftover);
          left ||= existsSync(leftover);
        }
        if (!left) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return { rssMiB: mib(peakRss), extra: { cgroupPeakMiB: mib(max) } };
    },
  };
}

/** rmdir of a cgroup and whatever empty children podman left in it. */
async function removeTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await removeTree(join(dir, entry.name));
  }
  await rmdir(dir).catch(() => undefined);
}
