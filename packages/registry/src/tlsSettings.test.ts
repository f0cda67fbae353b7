import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { createReference } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullImage } from './pullImage.ts';
import { pushImage } from './pushImage.ts';
import { createRegistryClient } from './registryClient.ts';
import { createTestImage, emptyStore } from './testing/testImage.ts';

let mutual: TestRegistry;
let tls: TestRegistry;

beforeAll(async () => {
  [mutual, tls] = await Promise.all([
    startRegistry({ mode: 'tls', clientCertificates: true }),
    startRegistry({ mode: 'tls' }),
  ]);
  const seeding = createRegistryClient({ certificates: { [tls.host]: tls.caFile! }, retries: 0 });
  await pushImage(seeding, await createTestImage([700]), [createReference(tls.host, 'base', '1')]);
  await seeding.close();
});
afterAll(async () => {
  await Promise.all([mutual?.stop(), tls?.stop()]);
});

describe('--registry-client-cert (mutual TLS)', () => {
  it('pushes and pulls with the client certificate; without it the registry refuses the connection', async () => {
    const withCert = createRegistryClient({
      certificates: { [mutual.host]: mutual.caFile! },
      clientCertificates: {
        [mutual.host]: { certFile: mutual.clientCertFile!, keyFile: mutual.clientKeyFile! },
      },
      retries: 0,
    });
    const reference = createReference(mutual.host, 'app', '1');
    const pushed = await pushImage(withCert, await createTestImage([900]), [reference]);
    const pulled = await pullImage(withCert, reference, { store: await emptyStore() });
    expect(pulled.manifestDigest).toBe(pushed.digest);
    await withCert.close();

    const withoutCert = createRegistryClient({ certificates: { [mutual.host]: mutual.caFile! }, retries: 0 });
    await expect(pullImage(withoutCert, reference, { store: await emptyStore() })).rejects.toMatchObject({
      // Under TLS 1.3 the refusal arrives after the handshake: the client sees the connection closed.
      code: expect.stringMatching(/^REGISTRY_(TLS_ERROR|UNREACHABLE)$/),
    });
    await withoutCert.close();
  });

  it('refuses a missing certificate file before any request', () => {
    expect(() =>
      createRegistryClient({
        clientCertificates: {
          [mutual.host]: { certFile: '/nonexistent/cert.pem', keyFile: mutual.clientKeyFile! },
        },
      }),
    ).toThrow(expect.objectContaining({ code: 'REGISTRY_CERTIFICATE_UNREADABLE' }));
  });
});

describe('pull-only and push-only TLS settings (--skip-tls-verify-pull, --insecure-pull, --insecure)', () => {
  it('--skip-tls-verify-pull skips verification for registries only read from, not for push targets', async () => {
    const reading = createRegistryClient({ pushRegistries: [], pull: { skipTlsVerify: true }, retries: 0 });
    const pulled = await pullImage(reading, createReference(tls.host, 'base', '1'), {
      store: await emptyStore(),
    });
    expect(pulled.source.registry).toBe(tls.host);
    await reading.close();

    const writing = createRegistryClient({
      pushRegistries: [tls.host],
      pull: { skipTlsVerify: true },
      retries: 0,
    });
    await expect(
      pushImage(writing, await createTestImage([300]), [createReference(tls.host, 'out', '1')]),
    ).rejects.toMatchObject({ code: 'REGISTRY_TLS_ERROR' });
    await writing.close();
  });

  it('plain HTTP per direction: --insecure for push targets, --insecure-pull for the rest', () => {
    const client = createRegistryClient({
      pushRegistries: ['push.example'],
      push: { insecure: true },
      pull: {},
    });
    expect(client.baseUrl('push.example')).toBe('http://push.example');
    expect(client.baseUrl('pull.example')).toBe('https://pull.example');
    const pullSide = createRegistryClient({ pushRegistries: ['push.example'], pull: { insecure: true } });
    expect(pullSide.baseUrl('push.example')).toBe('https://push.example');
    expect(pullSide.baseUrl('pull.example')).toBe('http://pull.example');
    // Without knowing the push targets (a library caller), either setting applies everywhere.
    expect(createRegistryClient({ pull: { insecure: true } }).baseUrl('any.example')).toBe(
      'http://any.example',
    );
  });
});
