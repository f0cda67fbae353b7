import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusyboxRegistry, startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { runKiln } from './kilnProcess.ts';

/**
 * Kaniko's warmer: `kiln warmer` (what /kaniko/warmer runs) reads a Dockerfile's FROM lines with
 * --build-arg, pulls them into --cache-dir with manifests and configs, and a build whose FROM is
 * pinned by digest then runs from that directory with the registry stopped.
 */

let env: BusyboxRegistry;
let registryStopped = false;
let digestRef: string;
let tagRef: string;

beforeAll(async () => {
  env = await startBusyboxRegistry('kiln-e2e-warm-');
  tagRef = env.base.reference;
  digestRef = `${tagRef.slice(0, tagRef.lastIndexOf(':'))}@${env.base.digest}`;
  await mkdir(join(env.work, 'ctx'), { recursive: true });
  // Stage names and scratch are not images; the base is named through an ARG as pipelines do.
  await writeFile(
    join(env.work, 'ctx/Dockerfile'),
    'ARG BASE\nFROM $BASE AS base\nRUN echo warmed-base > /warmed.txt\nFROM scratch AS empty\nFROM base\n',
  );
}, 120_000);
afterAll(async () => {
  if (registryStopped) await stopBusyboxRegistry({ work: env.work });
  else await stopBusyboxRegistry(env ?? {});
});

async function buildOffline(base: string, cacheDir: string) {
  const out = join(env.work, `out-${Math.random().toString(36).slice(2)}`);
  await mkdir(out, { recursive: true });
  const result = await runKiln([
    'build',
    '--executor',
    'sandbox',
    '--context',
    join(env.work, 'ctx'),
    '--build-arg',
    `BASE=${base}`,
    '--cache-dir',
    cacheDir,
    '--insecure-registry',
    env.registry.host,
    '--no-push',
    '--tar-path',
    join(out, 'image.tar'),
    '--push-retry',
    '0',
  ]);
  const archive = result.code === 0 ? (await readFile(join(out, 'image.tar'))).toString('latin1') : '';
  return { ...result, archive, output: `${result.stdout}\n${result.stderr}` };
}

describe('kiln warmer and offline bases', () => {
  it('warms the FROM images of a Dockerfile, and a digest-pinned FROM then builds with the registry down', {
    timeout: 240_000,
  }, async () => {
    const cacheDir = join(env.work, 'cache');
    // The base also behind an index (as most public images are), pinned by the index's digest.
    const indexRef = await pushIndexOf(digestRef);
    const warmed = await runKiln([
      'warmer',
      `--cache-dir=${cacheDir}`,
      `--dockerfile=${join(env.work, 'ctx/Dockerfile')}`,
      '--build-arg',
      `BASE=${digestRef}`,
      '--insecure-pull=true',
      '--force',
    ]);
    expect(warmed.code, warmed.stderr).toBe(0);
    // One image: the stage name and scratch are skipped.
    expect(warmed.stdout.trim().split('\n')).toEqual([`${digestRef.replace(/@.*/, '')}@${env.base.digest}`]);
    const warmedIndex = await runKiln([
      'warm',
      '--cache-dir',
      cacheDir,
      '--image',
      indexRef,
      '--insecure-registry',
      env.registry.host,
    ]);
    expect(warmedIndex.code, warmedIndex.stderr).toBe(0);

    await env.registry.stop();
    registryStopped = true;

    const built = await buildOffline(digestRef, cacheDir);
    expect(built.code, built.output).toBe(0);
    expect(built.archive).toContain('warmed-base');
    const viaIndex = await buildOffline(indexRef, cacheDir);
    expect(viaIndex.code, viaIndex.output).toBe(0);
    expect(viaIndex.archive).toContain('warmed-base');

    // A tag must be resolved by the registry (Kaniko asks it too): down, the build fails clearly.
    const tagged = await buildOffline(tagRef, cacheDir);
    expect(tagged.code).not.toBe(0);
    expect(tagged.output).toContain(`cannot pull base image "${tagRef}"`);
    expect(tagged.output).not.toMatch(/\n\s+at /);

    // And without the warm, the digest-pinned build has nothing to build from.
    const cold = await buildOffline(digestRef, join(env.work, 'cold-cache'));
    expect(cold.code).not.toBe(0);
  });
});

/** Pushes an OCI index naming the manifest `ref` (this machine's platform) and returns it pinned by digest. */
async function pushIndexOf(ref: string): Promise<string> {
  const [name, digest] = ref.split('@') as [string, string];
  const repository = name.slice(name.indexOf('/') + 1);
  const base = `http://${env.registry.host}/v2/${repository}/manifests`;
  const accept =
    'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
  const head = await fetch(`${base}/${digest}`, { method: 'HEAD', headers: { accept } });
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: head.headers.get('content-type'),
        digest,
        size: Number(head.headers.get('content-length')),
        platform: { os: 'linux', architecture: process.arch === 'arm64' ? 'arm64' : 'amd64' },
      },
    ],
  });
  const put = await fetch(`${base}/with-index`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
    body: index,
  });
  expect(put.status).toBe(201);
  return `${name}@${put.headers.get('docker-content-digest')}`;
}
