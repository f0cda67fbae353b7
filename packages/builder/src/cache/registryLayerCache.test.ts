import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore, type Digest, MediaType, parseReference } from '@kiln/image';
import { createRegistryClient } from '@kiln/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheTag } from './cacheTag.ts';
import { cacheStepAnnotation, registryLayerCache } from './registryLayerCache.ts';
import { RemoteBlobs } from './remoteBlobs.ts';

const created = Date.parse('2026-01-01T00:00:00Z');
const layerDigest = (index: number) => `sha256:${index.toString(16).padStart(64, 'a')}` as Digest;
const key = (index: number) => `sha256:${index.toString(16).padStart(64, '0')}`;

/** One cache entry per key index 0…19, each with a layer the registry says it holds. */
function entry(index: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: layerDigest(1000 + index), size: 2 },
      layers: [{ mediaType: MediaType.ociLayerGzip, digest: layerDigest(index), size: 10 }],
      annotations: {
        [cacheStepAnnotation]: JSON.stringify({
          version: 1,
          key: key(index),
          diffId: layerDigest(500 + index),
          history: { created_by: `step ${index}` },
          config: {},
        }),
        'org.opencontainers.image.created': new Date(created).toISOString(),
      },
    }),
  );
}

/** A registry holding the entries, whose manifest answers can be held back to count them in flight. */
let server: Server;
let host: string;
let holding = false;
const held: (() => void)[] = [];
let inFlight = 0;
let maxInFlight = 0;
let manifestGets = 0;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-registry-cache-'));
  server = createServer((request, response: ServerResponse) => {
    const url = request.url ?? '';
    if (url === '/v2/') {
      response.writeHead(200).end('{}');
      return;
    }
    if (request.method === 'HEAD' && url.includes('/blobs/')) {
      response.writeHead(200, { 'content-length': '10' }).end();
      return;
    }
    const tag = /\/manifests\/(sha256-[0-9a-f]{64})$/.exec(url)?.[1];
    const index = Array.from({ length: 20 }, (_, i) => i).find((i) => cacheTag(key(i)) === tag);
    const answer = () => {
      if (index === undefined) response.writeHead(404).end();
      else response.writeHead(200, { 'content-type': MediaType.ociManifest }).end(entry(index));
    };
    manifestGets++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.on('close', () => inFlight--);
    if (holding) held.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function openCache(now: () => number) {
  const client = createRegistryClient({ insecureRegistries: [host] });
  const store = new BlobStore(join(dir, String(Math.random())));
  const remote = new RemoteBlobs(client, store);
  const warnings: string[] = [];
  const cache = registryLayerCache({
    client,
    repository: parseReference(`${host}/kiln/cache`),
    store,
    remote,
    ttlMs: 60_000,
    push: false,
    onWarning: (message) => warnings.push(message),
    now,
  });
  return { client, cache, remote, warnings };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('registryLayerCache prefetch', () => {
  it('keeps 8 lookups in flight, answers each get from its prefetch, and notes a layer only for a taken hit', async () => {
    const { client, cache, remote } = openCache(() => created);
    expect(cache.prefetch).toBeTypeOf('function');
    holding = true;
    maxInFlight = 0;
    manifestGets = 0;
    try {
      for (let index = 0; index < 12; index++) cache.prefetch?.(key(index));
      while (inFlight < 8) await settle();
      // Eight at once, no more: the other four wait for a free place.
      for (let spin = 0; spin < 20; spin++) await settle();
      expect(maxInFlight).toBe(8);
      holding = false;
      for (const answer of held.splice(0)) answer();
      const hits = await Promise.all([0, 1, 2].map((index) => cache.get(key(index))));
      expect(hits.map((hit) => hit?.history.created_by)).toEqual(['step 0', 'step 1', 'step 2']);
      expect(remote.sourceOf(layerDigest(0))).toEqual({ registry: host, repository: 'kiln/cache' });
      // Prefetched but never taken: nothing noted, so a push would not mount it from there.
      while (manifestGets < 12 || inFlight > 0) await settle();
      expect(remote.sourceOf(layerDigest(11))).toBeUndefined();
      // Each get took its prefetch: twelve manifest requests in all, not fifteen.
      expect(manifestGets).toBe(12);
    } finally {
      holding = false;
      for (const answer of held.splice(0)) answer();
      await client.close();
    }
  });

  it('an entry prefetched in time but taken after --cache-ttl ran out is a miss', async () => {
    let now = created + 1000;
    const { client, cache } = openCache(() => now);
    expect(cache.prefetch).toBeTypeOf('function');
    try {
      cache.prefetch?.(key(3));
      while (inFlight > 0 || held.length > 0) await settle();
      await settle();
      now = created + 61_000;
      expect(await cache.get(key(3))).toBeUndefined();
      // Asked again, the registry's answer is judged now as well.
      expect(await cache.get(key(3))).toBeUndefined();
    } finally {
      await client.close();
    }
  });
});
