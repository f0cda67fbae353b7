import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { parseReference } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullImage } from './pullImage.ts';
import { pushImage } from './pushImage.ts';
import { createRegistryClient } from './registryClient.ts';
import { createTestImage, emptyStore } from './testing/testImage.ts';

let plain: TestRegistry;
let tls: TestRegistry;
let proxy: Server;
let proxyUrl: string;
const tunnels: string[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  [plain, tls] = await Promise.all([startRegistry({ mode: 'plain' }), startRegistry({ mode: 'tls' })]);
  // A CONNECT-only forward proxy, as corporate proxies in front of CI runners are.
  proxy = createServer((_request, response) => response.writeHead(405).end());
  proxy.on('connect', (request, client: Socket, head: Buffer) => {
    tunnels.push(request.url ?? '');
    const [host, port] = (request.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => proxy?.close(() => resolve()));
  await Promise.all([plain?.stop(), tls?.stop()]);
});

describe('HTTP(S)_PROXY', () => {
  it('tunnels plain and TLS registries through the proxy, trusting the registry CA inside the tunnel', async () => {
    const client = createRegistryClient({
      insecureRegistries: [plain.host],
      certificates: { [tls.host]: tls.caFile! },
      proxy: { httpProxy: proxyUrl, httpsProxy: proxyUrl },
    });
    const image = await createTestImage([512]);
    await pushImage(client, image, [
      parseReference(`${plain.host}/proxied/app:1`),
      parseReference(`${tls.host}/proxied/app:1`),
    ]);
    expect(tunnels).toContain(plain.host);
    expect(tunnels).toContain(tls.host);
    const pulled = await pullImage(client, parseReference(`${tls.host}/proxied/app:1`), {
      store: await emptyStore(),
    });
    expect(pulled.layers).toHaveLength(1);
    await client.close();
  });

  it('goes direct for hosts in NO_PROXY', async () => {
    tunnels.length = 0;
    const client = createRegistryClient({
      insecureRegistries: [plain.host],
      proxy: { httpProxy: proxyUrl, noProxy: '127.0.0.1' },
    });
    await pushImage(client, await createTestImage([256]), [parseReference(`${plain.host}/direct/app:1`)]);
    expect(tunnels).toEqual([]);
    await client.close();
  });
});
