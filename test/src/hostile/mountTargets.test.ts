import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusyboxRegistry, startBusyboxRegistry, stopBusyboxRegistry } from '../busyboxRegistry.ts';
import { hostileBuild, writeContext } from './hostileBuild.ts';
import { createSentinelTree, type SentinelTree } from './sentinelTree.ts';

// A RUN mount's target is a path in an untrusted root: a symlink the image made in its parents must
// never make Kiln create, write or remove anything on the host while it prepares the mount point.
let env: BusyboxRegistry;
let sentinel: SentinelTree;

beforeAll(async () => {
  env = await startBusyboxRegistry('kiln-hostile-mount-targets-');
  sentinel = await createSentinelTree();
}, 120_000);
afterAll(async () => {
  await stopBusyboxRegistry(env ?? {});
  if (sentinel) await rm(sentinel.dir, { recursive: true, force: true });
});

describe('RUN mount targets resolve inside the root', () => {
  it('a secret, cache and tmpfs target under a link to a host dir land in the root', {
    timeout: 120_000,
  }, async () => {
    const before = await sentinel.fingerprint();
    const secretFile = join(env.work, 'secret');
    await writeFile(secretFile, 'mount-target-secret');
    const dockerfile = [
      'ARG BASE',
      'FROM $BASE',
      `RUN ln -s ${sentinel.dir} /hostdir`,
      'RUN --mount=type=secret,id=s,target=/hostdir/new/secret --mount=type=tmpfs,target=/hostdir/tmp ' +
        '--mount=type=cache,target=/hostdir/cache/dir cat /hostdir/new/secret > /seen',
      '',
    ].join('\n');
    const context = await writeContext(join(env.work, 'links', 'context'), {
      files: { Dockerfile: dockerfile },
    });
    const result = await hostileBuild(
      context,
      join(env.work, 'links', 'out'),
      env.base.reference,
      env.registry.host,
      ['--secret', `id=s,src=${secretFile}`],
    );
    // The host dir is untouched (no mount point made and removed there, which would change its
    // mtime), and the build works: the link resolves inside the root, as a chroot sees it.
    expect(await sentinel.fingerprint()).toBe(before);
    expect(result.code, result.stderr).toBe(0);
  });
});
