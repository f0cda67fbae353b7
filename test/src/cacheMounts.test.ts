import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusyboxRegistry, startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { runChecked, runKiln, unpackWithUmoci } from './kilnProcess.ts';

// RUN --mount=type=cache through the real CLI (sandbox executor) across builds sharing --cache-dir.
let env: BusyboxRegistry;
beforeAll(async () => {
  env = await startBusyboxRegistry('kiln-e2e-cache-mounts-');
}, 120_000);
afterAll(() => stopBusyboxRegistry(env ?? {}));

async function buildOnce(name: string, dockerfile: string, cacheDir: string, buildId: string) {
  const dir = join(env.work, name, buildId);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  const layout = join(dir, 'layout');
  const result = await runKiln([
    'build',
    '--executor',
    'sandbox',
    '--context',
    dir,
    '--build-arg',
    `BASE=${env.base.reference}`,
    '--build-arg',
    `BUILD_ID=${buildId}`,
    '--insecure-registry',
    env.registry.host,
    '--no-push',
    '--cache-dir',
    cacheDir,
    '--oci-layout-path',
    layout,
  ]);
  return { ...result, layout, dir };
}

describe('cache mounts across builds (sandbox executor)', () => {
  it('a file the first build writes is seen by the second; none of it reaches a layer', {
    timeout: 240_000,
  }, async () => {
    const cacheDir = join(env.work, 'persist-cache');
    const dockerfile =
      'ARG BASE\nFROM $BASE\nARG BUILD_ID\n' +
      'RUN --mount=type=cache,target=/var/cache/app ls /var/cache/app > /seen && echo "$BUILD_ID" > /var/cache/app/from-$BUILD_ID\n';
    const first = await buildOnce('persist', dockerfile, cacheDir, 'one');
    expect(first.code, first.stderr).toBe(0);
    const second = await buildOnce('persist', dockerfile, cacheDir, 'two');
    expect(second.code, second.stderr).toBe(0);
    const rootfs = await unpackWithUmoci(`oci:${second.layout}`, join(second.dir, 'unpacked'));
    expect(await readFile(join(rootfs, 'seen'), 'utf8')).toBe('from-one\n');
    const listing = await runChecked('find', [rootfs]);
    expect(listing).not.toContain('var/cache/app');
  });

  it('sharing=locked serialises two concurrent builds on one cache dir', { timeout: 240_000 }, async () => {
    const cacheDir = join(env.work, 'locked-cache');
    const dockerfile =
      'ARG BASE\nFROM $BASE\nARG BUILD_ID\n' +
      'RUN --mount=type=cache,id=shared,target=/c,sharing=locked ' +
      'echo "start $BUILD_ID" >> /c/log && sleep 3 && echo "end $BUILD_ID" >> /c/log\n' +
      'RUN --mount=type=cache,id=shared,target=/c cat /c/log > /log\n';
    const [a, b] = await Promise.all([
      buildOnce('locked', dockerfile, cacheDir, 'a'),
      buildOnce('locked', dockerfile, cacheDir, 'b'),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const logs = await Promise.all(
      [a, b].map(async (built, index) => {
        const rootfs = await unpackWithUmoci(`oci:${built.layout}`, join(built.dir, `unpacked-${index}`));
        return (await readFile(join(rootfs, 'log'), 'utf8')).trim().split('\n');
      }),
    );
    const full = logs.find((log) => log.length === 4)!;
    // One RUN ran whole before the other began.
    expect([
      ['start a', 'end a', 'start b', 'end b'],
      ['start b', 'end b', 'start a', 'end a'],
    ]).toContainEqual(full);
  });
});
