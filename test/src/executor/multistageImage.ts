import { ensureBusyboxImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { readContextTemplate } from './executorTestbed.ts';
import { pushKilnDirsBase } from './kilnDirsBase.ts';

/** Pushes the Dockerfile's two bases (busybox, the kiln-dirs decoy base) with the registry's credentials. */
export async function pushMultistageBases(registry: TestRegistry, work: string): Promise<void> {
  const withAuth = {
    ...registry,
    ...(registry.username === undefined ? {} : { dockerConfigDir: await registry.dockerConfig() }),
  };
  await ensureBusyboxImage(withAuth);
  await pushKilnDirsBase(withAuth, work, registry.host);
}

/** contexts/executor-multistage/Dockerfile for a registry holding `kiln/busybox` and the kiln-dirs base. */
export function multistageDockerfile(registry: TestRegistry): Promise<string> {
  return readContextTemplate('executor-multistage/Dockerfile', { REGISTRY: registry.host });
}

export const multistageCmd = ['sh', '-c', 'cat /out/proc-status /out/run-as /out/summary'];

/** What the built image prints: what its RUN steps wrote, in the executor's unprivileged container. */
export const multistageOutput = [
  // The build ran with exactly a default pod's capabilities and under a seccomp filter…
  'CapEff:\t00000000a80425fb',
  'Seccomp:\t2',
  // …which refused to create a user namespace.
  'unshare: refused',
  // USER builder: uid 1000 with its supplementary group.
  'run as uid=1000(builder) gid=1000(builder) groups=1000(builder),2000(crew)',
  'Uid: 1000 1000 1000 1000',
  'Groups: 1000 2000',
  // COPY --from brought the build stage's files into the busybox stage.
  'final stage: 3 lines from the build stage',
  '',
].join('\n');

/** The files the multi-stage build leaves in its image's layers. */
export const multistageFiles = ['out/proc-status', 'out/run-as', 'out/summary'];
