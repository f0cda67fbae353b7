import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type FaultProxy, startFaultProxy, startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { parseReference, type Reference } from '@kiln/image';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RegistryEvent } from './events.ts';
import { getManifest } from './manifests.ts';
import { pullImage } from './pullImage.ts';
import { pushImage } from './pushImage.ts';
import { createRegistryClient, type RegistryClientOptions } from './registryClient.ts';
import { createTestImage, emptyStore } from './testing/testImage.ts';

const execFileAsync = promisify(execFile);
let registry: TestRegistry;
let proxy: FaultProxy;

beforeAll(async () => {
  registry = await startRegistry({ mode: 'plain' });
  proxy = await startFaultProxy({ target: registry.url });
});
afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});
beforeEach(() => proxy.setFaults([]));

function client(events: RegistryEvent[], options: RegistryClientOptions = {}) {
  return createRegistryClient({
    insecureRegistries: [proxy.host, registry.host],
    retryBaseDelayMs: 5,
    onEvent: (event) => events.push(event),
    ...options,
  });
}

/** skopeo reads the image straight from the registry, checking every blob against its digest. */
async function verifyWithSkopeo(reference: Reference): Promise<void> {
  const direct = `${registry.host}/${reference.repository}:${reference.tag}`;
  const layout = await mkdtemp(join(tmpdir(), 'kiln-verify-'));
  await execFileAsync('skopeo', ['copy', '--src-tls-verify=false', `docker://${direct}`, `oci:${layout}:v`]);
}

describe('push under faults', () => {
  it('completes through resets, 5xx and 429 (honouring Retry-After), and skopeo verifies it', async () => {
    const image = await createTestImage([64 * 1024, 48 * 1024]);
    proxy.setFaults([
      { method: 'HEAD', times: 1, fault: { kind: 'status', status: 429, retryAfter: 1 } },
      { method: 'POST', times: 1, fault: { kind: 'status', status: 503 } },
      { method: 'PUT', path: '/blobs/uploads/', times: 1, fault: { kind: 'reset', afterBytes: 20_000 } },
      { method: 'PUT', path: '/blobs/uploads/', skip: 1, times: 1, fault: { kind: 'status', status: 502 } },
      { method: 'PUT', path: '/manifests/', times: 1, fault: { kind: 'reset' } },
    ]);
    const events: RegistryEvent[] = [];
    const reference = parseReference(`${proxy.host}/faulty/app:1`);
    const result = await pushImage(client(events), image, [reference]);
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries.length).toBeGreaterThanOrEqual(5);
    expect(retries.some((e) => e.type === 'retry' && e.delayMs === 1000)).toBe(true);
    expect(proxy.requests.filter((r) => r.fault !== undefined)).toHaveLength(5);
    expect(result.pushed[0]!.uploaded).toHaveLength(3);
    await verifyWithSkopeo(reference);
  });

  it('with retries exhausted fails with a clear error and pushes no manifest', async () => {
    const image = await createTestImage([4096]);
    proxy.setFaults([{ method: 'PUT', path: '/blobs/uploads/', fault: { kind: 'status', status: 500 } }]);
    const events: RegistryEvent[] = [];
    const reference = parseReference(`${proxy.host}/exhausted/app:1`);
    const error = await pushImage(client(events, { retries: 2 }), image, [reference]).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'REGISTRY_HTTP_ERROR' });
    expect((error as Error).message).toMatch(/HTTP 500/);
    expect((error as Error).message).toContain(`${proxy.host}/exhausted/app`);
    expect(
      proxy.requests.some((r) => r.method === 'PUT' && r.path.includes('/exhausted/app/manifests/')),
    ).toBe(false);
    proxy.setFaults([]);
    expect(await getManifest(client([]), parseReference(`${registry.host}/exhausted/app:1`))).toBeUndefined();
  });

  it('resumes a chunked upload from the Range the registry reports, or starts over when it dropped it', async () => {
    const image = await createTestImage([64 * 1024]);
    proxy.setFaults([
      { method: 'PATCH', skip: 1, times: 1, fault: { kind: 'reset' } },
      { method: 'PATCH', skip: 4, times: 1, fault: { kind: 'reset', afterBytes: 5000 } },
    ]);
    const events: RegistryEvent[] = [];
    const reference = parseReference(`${proxy.host}/chunked/app:1`);
    await pushImage(client(events, { chunkSize: 16 * 1024, concurrency: 1 }), image, [reference]);
    const resumed = events.filter((e) => e.type === 'upload-resumed');
    expect(resumed[0]).toMatchObject({ offset: 16 * 1024 });
    expect(proxy.requests.filter((r) => r.method === 'PATCH').length).toBeGreaterThan(4);
    await verifyWithSkopeo(reference);
  });
});

describe('stalls', () => {
  it('gives up on a stalled request after requestTimeoutMs and retries it', async () => {
    const image = await createTestImage([2048]);
    proxy.setFaults([{ method: 'HEAD', times: 1, fault: { kind: 'stall', ms: Number.POSITIVE_INFINITY } }]);
    const events: RegistryEvent[] = [];
    const started = Date.now();
    await pushImage(client(events, { requestTimeoutMs: 300 }), image, [
      parseReference(`${proxy.host}/stalled/app:1`),
    ]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(events.find((e) => e.type === 'retry')).toMatchObject({
      reason: expect.stringContaining('UND_ERR_HEADERS_TIMEOUT'),
    });
  });
});

describe('pull under faults', () => {
  it('rejects a blob whose bytes do not match its digest and keeps nothing', async () => {
    const image = await createTestImage([8192]);
    const reference = parseReference(`${proxy.host}/corrupt/app:1`);
    await pushImage(client([]), image, [reference]);
    const layer = image.manifest.layers[0]!.digest;
    proxy.setFaults([{ method: 'GET', path: layer, fault: { kind: 'corrupt' } }]);
    const store = await emptyStore();
    const error = await pullImage(client([], { retries: 1 }), reference, { store }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await store.has(layer)).toBe(false);
  });

  it('retries truncated and corrupted transfers', async () => {
    const image = await createTestImage([64 * 1024]);
    const reference = parseReference(`${proxy.host}/flaky/app:1`);
    await pushImage(client([]), image, [reference]);
    const layer = image.manifest.layers[0]!.digest;
    proxy.setFaults([
      { method: 'GET', path: layer, times: 1, fault: { kind: 'truncate', bytes: 1000 } },
      { method: 'GET', path: layer, times: 1, fault: { kind: 'corrupt' } },
    ]);
    const store = await emptyStore();
    const events: RegistryEvent[] = [];
    await pullImage(client(events), reference, { store });
    expect(await store.has(layer)).toBe(true);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(2);
  });
});
