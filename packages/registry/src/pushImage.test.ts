import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { parseReference } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBlob } from './ensureBlob.ts';
import { pushImage } from './pushImage.ts';
import { createRegistryClient } from './registryClient.ts';
import { createTestImage } from './testing/testImage.ts';

/**
 * A pass-through proxy that records each request and can hold the blob checks (HEAD) back until
 * `holdUntil` of them are waiting at once: it shows how many a push has in flight together. A held
 * request is let go after a while anyway, so a push that sends fewer ends (and the test fails).
 */
interface CountingProxy {
  host: string;
  requests: { method: string; path: string }[];
  /** The most HEAD requests seen waiting at once. */
  maxHeadsInFlight: number;
  holdUntil: number;
  close(): Promise<void>;
}

async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  let heads = 0;
  let held: (() => void)[] = [];
  const release = () => {
    for (const go of held) go();
    held = [];
  };
  const proxy: CountingProxy = {
    host: '',
    requests: [],
    maxHeadsInFlight: 0,
    holdUntil: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const forward = (request: IncomingMessage, response: import('node:http').ServerResponse) => {
    const outgoing = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(outgoing);
  };
  const server: Server = createServer((request, response) => {
    proxy.requests.push({ method: request.method ?? '', path: request.url ?? '' });
    if (request.method !== 'HEAD' || proxy.holdUntil === 0) return forward(request, response);
    heads++;
    proxy.maxHeadsInFlight = Math.max(proxy.maxHeadsInFlight, heads);
    response.on('close', () => heads--);
    held.push(() => forward(request, response));
    if (heads >= proxy.holdUntil) release();
    else setTimeout(release, 1500).unref();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

let registry: TestRegistry;
let proxy: CountingProxy;
beforeAll(async () => {
  registry = await startRegistry({ mode: 'plain' });
  proxy = await startCountingProxy(registry.url);
});
afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
});

describe('pushImage of an image whose layers are elsewhere on the registry', () => {
  it('checks every blob at once, config included, beyond the client concurrency', async () => {
    const client = createRegistryClient({ insecureRegistries: [proxy.host] });
    expect(client.concurrency).toBe(4);
    const image = await createTestImage([64, 64, 64, 64, 64, 64]);
    // Seven blobs (six layers and the config): all their checks are waiting together.
    proxy.holdUntil = 7;
    proxy.maxHeadsInFlight = 0;
    try {
      await pushImage(client, image, [parseReference(`${proxy.host}/kiln/wide:latest`)]);
    } finally {
      proxy.holdUntil = 0;
      await client.close();
    }
    expect(proxy.maxHeadsInFlight).toBe(7);
  });

  it('mounts each layer from the repository it came from first and never offers the config a mount', async () => {
    const client = createRegistryClient({ insecureRegistries: [proxy.host] });
    const image = await createTestImage([100, 200]);
    const [first, second] = image.manifest.layers as [
      (typeof image.manifest.layers)[0],
      (typeof image.manifest.layers)[0],
    ];
    const repo = (repository: string) => ({ registry: proxy.host, repository });
    // The first layer lives in a base's repository, the second in the cache's.
    await ensureBlob(client, repo('kiln/base'), first, { source: image.store });
    await ensureBlob(client, repo('kiln/cache'), second, { source: image.store });
    const sources = new Map([
      [first.digest, repo('kiln/base')],
      [second.digest, repo('kiln/cache')],
    ]);
    proxy.requests.length = 0;
    try {
      const result = await pushImage(client, image, [parseReference(`${proxy.host}/kiln/fresh:latest`)], {
        // The cache's repository comes first, as the build lists it.
        mountFrom: [parseReference(`${proxy.host}/kiln/cache`), parseReference(`${proxy.host}/kiln/base`)],
        sourceOf: (digest) => sources.get(digest),
      });
      expect(result.pushed[0]?.mounted.sort()).toEqual([first.digest, second.digest].sort());
      expect(result.pushed[0]?.uploaded).toEqual([image.manifest.config.digest]);
    } finally {
      await client.close();
    }
    const mounts = proxy.requests.filter((request) => request.path.includes('mount='));
    expect(mounts).toHaveLength(2);
    expect(mounts.find((request) => request.path.includes(encodeURIComponent(first.digest)))?.path).toContain(
      `from=${encodeURIComponent('kiln/base')}`,
    );
    // No mount was declined: no upload session opened for nothing and cancelled.
    expect(proxy.requests.filter((request) => request.method === 'DELETE')).toEqual([]);
  });
});
