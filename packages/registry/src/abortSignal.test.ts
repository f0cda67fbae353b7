import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { BlobStore, parseReference } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchBlob } from './blobs.ts';
import { getManifest } from './manifests.ts';
import { createRegistryClient } from './registryClient.ts';

// A registry that answers the ping, then sends blob bodies a trickle at a time and never finishes,
// and answers manifests with 503 (retryable): what a signal must cut short.
let server: Server;
let host: string;
let requests = 0;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-registry-abort-'));
  server = createServer((request, response) => {
    requests++;
    if (request.url === '/v2/') return response.writeHead(200).end('{}');
    if (request.url?.includes('/blobs/')) {
      response.writeHead(200, { 'content-length': String(1 << 30) });
      const timer = setInterval(() => response.write(Buffer.alloc(1024)), 20);
      response.on('close', () => clearInterval(timer));
      return;
    }
    response.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const interrupted = () => new KilnError('INTERRUPTED', 'interrupted by SIGTERM', { exitCode: 143 });
const digest = `sha256:${'a'.repeat(64)}` as const;

describe('a registry client with an abort signal', () => {
  it('stops a blob download mid-body with the signal’s reason', async () => {
    const controller = new AbortController();
    const client = createRegistryClient({ insecureRegistries: [host], signal: controller.signal });
    const store = new BlobStore(join(dir, 'store'));
    const download = fetchBlob(
      client,
      { registry: host, repository: 'a/b' },
      { digest, size: 1 << 30 },
      store,
    );
    setTimeout(() => controller.abort(interrupted()), 300);
    const started = Date.now();
    await expect(download).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(Date.now() - started).toBeLessThan(1000);
    await client.close();
  });

  it('stops the wait between retries, and sends nothing once aborted', async () => {
    const controller = new AbortController();
    const client = createRegistryClient({
      insecureRegistries: [host],
      signal: controller.signal,
      retries: 5,
      retryBaseDelayMs: 5000,
    });
    const reference = parseReference(`${host}/a/b:1`);
    const fetching = getManifest(client, reference);
    setTimeout(() => controller.abort(interrupted()), 300);
    const started = Date.now();
    await expect(fetching).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(Date.now() - started).toBeLessThan(1000);
    const before = requests;
    await expect(getManifest(client, reference)).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(requests).toBe(before);
    await client.close();
  });
});
