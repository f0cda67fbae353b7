import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FaultProxy, startFaultProxy } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusyboxRegistry, startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { runKiln } from './kilnProcess.ts';

let started: Partial<BusyboxRegistry> = {};
let proxy: FaultProxy | undefined;

beforeAll(async () => {
  started = await startBusyboxRegistry('kiln-e2e-events-');
  proxy = await startFaultProxy({ target: started.registry!.url });
});
afterAll(async () => {
  await proxy?.stop();
  await stopBusyboxRegistry(started);
});

interface JsonLine {
  type: string;
  stage?: string;
  event?: { type: string; [key: string]: unknown };
  [key: string]: unknown;
}

describe('kiln build --log-format json', () => {
  it('carries the registry client’s retries and the snapshot’s xattr warning as JSON lines', async () => {
    const { registry, base, work } = started as BusyboxRegistry;
    const context = join(work, 'context');
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'Dockerfile'), 'ARG BASE\nFROM $BASE\nRUN echo hello > /hello.txt\n');
    // The base goes through the proxy, whose first manifest GET answers 503: the client retries.
    proxy!.setFaults([
      { method: 'GET', path: '/manifests/', times: 1, fault: { kind: 'status', status: 503 } },
    ]);
    const result = await runKiln(
      [
        'build',
        '--context',
        context,
        '--build-arg',
        `BASE=${base.reference.replace(registry.host, proxy!.host)}`,
        '--insecure-registry',
        proxy!.host,
        '--no-push',
        '--log-format',
        'json',
      ],
      // No helper to read extended attributes with: the snapshot says so and goes on without them.
      { KILN_XATTR_HELPER: '/nonexistent/kiln-xattr' },
    );
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as JsonLine);
    expect(lines.find((line) => line.type === 'registry' && line.event?.type === 'retry')).toMatchObject({
      event: { registry: proxy!.host, attempt: 1, reason: expect.stringContaining('503') },
    });
    expect(
      lines.find((line) => line.type === 'snapshot' && line.event?.type === 'xattrs-unavailable'),
    ).toMatchObject({ stage: expect.any(String), event: { reason: expect.any(String) } });
    expect(lines.at(-1)).toMatchObject({ type: 'result', digest: expect.stringMatching(/^sha256:/) });
    expect(result.stderr).toBe('');
  });
});
