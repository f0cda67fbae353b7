import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBusyboxImage, type PushedImage } from '@kiln/fixtures/images';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';

/** What most e2e files start from: a plain registry holding the busybox base, and a scratch dir. */
export interface BusyboxRegistry {
  registry: TestRegistry;
  base: PushedImage;
  work: string;
}

export async function startBusyboxRegistry(scratchPrefix: string): Promise<BusyboxRegistry> {
  const registry = await startRegistry({ mode: 'plain' });
  const base = await ensureBusyboxImage(registry);
  const work = await mkdtemp(join(tmpdir(), scratchPrefix));
  return { registry, base, work };
}

/** Safe after a start that failed part way (fields still undefined). */
export async function stopBusyboxRegistry(started: Partial<BusyboxRegistry>): Promise<void> {
  await started.registry?.stop();
  if (started.work) await rm(started.work, { recursive: true, force: true });
}
