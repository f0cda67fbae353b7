import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChecked, skopeoInspect } from '../kilnProcess.ts';
import { hostileBuild, writeContext } from './hostileBuild.ts';
import { useHostileEnvironment } from './hostileEnvironment.ts';
import { fingerprintTree } from './sentinelTree.ts';

// --cache-dir is shared across builds: a RUN must not reach its blob store, and a blob changed there
// on disk must be caught before it is used.

// The sentinel sits beside the cache dir, where `id=../..` would land.
const env = useHostileEnvironment('kiln-hostile-cache-', { sentinelInWork: true });

/** Every blob in the store, checked against its name: the store as a reader would trust it. */
async function storeState(cacheDir: string): Promise<{ blobs: string[]; intact: boolean }> {
  const dir = join(cacheDir, 'blobs', 'sha256');
  const blobs = (await readdir(dir)).sort();
  let intact = true;
  for (const name of blobs) {
    const actual = createHash('sha256')
      .update(await readFile(join(dir, name)))
      .digest('hex');
    if (actual !== name) intact = false;
  }
  return { blobs, intact };
}

describe('cache mounts', () => {
  it('an id that names a path (.., ../.., /, .) cannot see or change the blob store', {
    timeout: 120_000,
  }, async () => {
    const cacheDir = join(env.work, 'traversal', 'cache');
    await mkdir(cacheDir, { recursive: true });
    const seed = await writeContext(join(env.work, 'seed', 'context'), {
      files: { Dockerfile: 'ARG BASE\nFROM $BASE\nRUN echo seeded > /seeded\n' },
    });
    // A first build fills the store, as a CI runner's earlier job would.
    const first = await hostileBuild(
      seed,
      join(env.work, 'seed', 'out'),
      env.base.reference,
      env.registry.host,
      ['--cache-dir', cacheDir],
    );
    expect(first.code, first.stderr).toBe(0);
    const storeBefore = await storeState(cacheDir);
    expect(storeBefore.intact).toBe(true);
    const sentinelBefore = await env.sentinel.fingerprint();

    const attack = (id: string) =>
      `RUN --mount=type=cache,id=${id},target=/c ls -R /c >> /seen; ` +
      `find /c -type f -exec sh -c 'echo tampered > "$1"' _ {} \\; ; ` +
      `echo pwned > /c/pwned; rm -rf /c/blobs /c/*/secret.txt; true`;
    const context = await writeContext(join(env.work, 'traversal', 'context'), {
      files: {
        Dockerfile: ['ARG BASE', 'FROM $BASE', ...['..', '../..', '/', '.', '../../..'].map(attack), ''].join(
          '\n',
        ),
      },
    });
    const result = await hostileBuild(
      context,
      join(env.work, 'traversal', 'out'),
      env.base.reference,
      env.registry.host,
      ['--cache-dir', cacheDir],
    );
    expect(result.code, result.stderr).toBe(0);
    // Nothing the first build left in the store was seen, changed or removed.
    expect(result.archive.includes(storeBefore.blobs[0]!)).toBe(false);
    const storeAfter = await storeState(cacheDir);
    expect(storeAfter.intact).toBe(true);
    for (const blob of storeBefore.blobs) expect(storeAfter.blobs).toContain(blob);
    expect(await readdir(cacheDir)).not.toContain('pwned');
    expect(await readdir(join(cacheDir, '..'))).not.toContain('pwned');
    expect(await env.sentinel.fingerprint()).toBe(sentinelBefore);
    expect(result.archive.includes(env.sentinel.secretText)).toBe(false);
  });
});

describe('the blob store in --cache-dir', () => {
  it('a base layer rewritten on disk is caught before use, dropped, and fetched again', {
    timeout: 120_000,
  }, async () => {
    const cacheDir = join(env.work, 'corrupt', 'cache');
    const dockerfile = 'ARG BASE\nFROM $BASE\nARG N\nRUN echo $N > /n && cat /evil 2>/dev/null; true\n';
    const context = await writeContext(join(env.work, 'corrupt', 'context'), {
      files: { Dockerfile: dockerfile },
    });
    const build = (n: number) =>
      hostileBuild(context, join(env.work, 'corrupt', `out-${n}`), env.base.reference, env.registry.host, [
        '--cache-dir',
        cacheDir,
        '--build-arg',
        `N=${n}`,
      ]);
    expect((await build(1)).code).toBe(0);

    // Rewrite the base layer in the store: a valid gzip tar, with a file the attacker chose.
    const inspected = JSON.parse((await skopeoInspect(env.base.reference)).stdout) as { Layers: string[] };
    const layer = inspected.Layers[0]!.slice('sha256:'.length);
    const evil = join(env.work, 'corrupt', 'evil');
    await mkdir(evil, { recursive: true });
    await writeFile(join(evil, 'evil'), `${env.sentinel.secretText}\n`);
    await runChecked('tar', ['-czf', join(cacheDir, 'blobs', 'sha256', layer), '-C', evil, 'evil']);
    const fingerprint = await fingerprintTree(env.sentinel.dir);

    const caught = await build(2);
    expect(caught.code).not.toBe(0);
    expect(caught.errorCode, caught.stderr).toBe('BLOB_CORRUPT');
    expect(`${caught.stdout}${caught.stderr}`).not.toContain(env.sentinel.secretText);
    // Dropped from the store, so the next build fetches it again from the registry.
    expect(await readdir(join(cacheDir, 'blobs', 'sha256'))).not.toContain(layer);
    const again = await build(3);
    expect(again.code, again.stderr).toBe(0);
    expect(again.archive.includes(env.sentinel.secretText)).toBe(false);
    expect((await storeState(cacheDir)).intact).toBe(true);
    expect(await fingerprintTree(env.sentinel.dir)).toBe(fingerprint);
  });
});
