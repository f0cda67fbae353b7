import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKilnError, type KilnError } from '@kiln/errors';
import { startFaultProxy, startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { parseReference } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDockerConfig } from './dockerConfig.ts';
import type { RegistryEvent } from './events.ts';
import { pullImage } from './pullImage.ts';
import { pushImage } from './pushImage.ts';
import { createRegistryClient } from './registryClient.ts';
import { createTestImage, emptyStore } from './testing/testImage.ts';

let basic: TestRegistry;
let token: TestRegistry;
let tls: TestRegistry;

beforeAll(async () => {
  [basic, token, tls] = await Promise.all([
    startRegistry({ mode: 'basic' }),
    startRegistry({ mode: 'token' }),
    startRegistry({ mode: 'tls' }),
  ]);
});
afterAll(async () => {
  await Promise.all([basic?.stop(), token?.stop(), tls?.stop()]);
});

/** Every string an error or event could leak through. */
function serialise(error: unknown, events: RegistryEvent[] = []): string {
  const parts: string[] = [JSON.stringify(events)];
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    parts.push(e.message, String((e as KilnError).hint ?? ''), e.stack ?? '');
  }
  return parts.join('\n');
}

describe('credentials and auth', () => {
  it('basic: credentials from auths keyed by https://host, written as username/password', async () => {
    const dir = await basic.dockerConfig({ key: `https://${basic.host}`, style: 'username' });
    const client = createRegistryClient({
      insecureRegistries: [basic.host],
      credentials: await loadDockerConfig({ env: { DOCKER_CONFIG: dir } }),
    });
    const reference = parseReference(`${basic.host}/team/app:1`);
    await pushImage(client, await createTestImage(), [reference]);
    const pulled = await pullImage(client, reference, { store: await emptyStore() });
    expect(pulled.layers).toHaveLength(2);
    await client.close();
  });

  it('basic: wrong password fails REGISTRY_UNAUTHORIZED naming the credential source, and no secret leaks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-bad-config-'));
    const secret = 'hunter2-very-secret';
    const auth = Buffer.from(`kiln:${secret}`).toString('base64');
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ auths: { [`http://${basic.host}/v2/`]: { auth } } }),
    );
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({
      insecureRegistries: [basic.host],
      credentials: await loadDockerConfig({ env: { DOCKER_CONFIG: dir } }),
      onEvent: (event) => events.push(event),
    });
    const error = await pushImage(client, await createTestImage(), [
      parseReference(`${basic.host}/team/app:1`),
    ]).catch((e: unknown) => e);
    expect(isKilnError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    expect((error as KilnError).hint).toContain(join(dir, 'config.json'));
    expect((error as KilnError).message).toContain(basic.host);
    const text = serialise(error, events);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(auth);
    expect(await readFile(basic.logFile, 'utf8')).not.toContain(secret);
    await client.close();
  });

  it('token: fetches one token per scope, reuses it, and refreshes it after a 401', async () => {
    // Distribution accepts tokens for a minute past expiry, so the 401 comes from a proxy.
    const proxy = await startFaultProxy({ target: token.url });
    const dir = await token.dockerConfig({ key: proxy.host });
    const client = createRegistryClient({
      insecureRegistries: [proxy.host],
      credentials: await loadDockerConfig({ env: { DOCKER_CONFIG: dir } }),
    });
    const reference = parseReference(`${proxy.host}/team/app:1`);
    const image = await createTestImage();
    const before = token.tokenRequests!.length;
    await pushImage(client, image, [reference]);
    // One push scope for the whole push (blobs and manifest share it).
    expect(token.tokenRequests!.slice(before).map((r) => r.scopes.join(' '))).toEqual([
      'repository:team/app:pull,push',
    ]);
    proxy.setFaults([{ method: 'HEAD', times: 1, fault: { kind: 'status', status: 401 } }]);
    const again = await pushImage(client, image, [reference]);
    expect(again.pushed[0]!.skipped).toHaveLength(3);
    expect(token.tokenRequests!.length - before).toBe(2);
    // Three parallel requests refused at once renew the token once, not three times.
    proxy.setFaults([{ method: 'HEAD', times: 3, fault: { kind: 'status', status: 401 } }]);
    await pushImage(client, image, [reference]);
    expect(proxy.requests.filter((r) => r.status === 401 && r.method === 'HEAD')).toHaveLength(4);
    expect(token.tokenRequests!.length - before).toBe(3);
    expect(token.tokenRequests!.every((r) => r.via === 'basic' && r.granted)).toBe(true);
    await client.close();
    await proxy.stop();
  });

  it('token: an identitytoken is exchanged as an OAuth2 refresh token', async () => {
    const dir = await token.dockerConfig({ style: 'identitytoken' });
    const client = createRegistryClient({
      insecureRegistries: [token.host],
      credentials: await loadDockerConfig({ env: { DOCKER_CONFIG: dir } }),
    });
    await pushImage(client, await createTestImage(), [parseReference(`${token.host}/idt/app:1`)]);
    expect(token.tokenRequests!.at(-1)).toMatchObject({
      method: 'POST',
      via: 'refresh_token',
      granted: true,
    });
    await client.close();
  });

  it('token: anonymous access is refused with a hint naming where credentials were looked for', async () => {
    const client = createRegistryClient({ insecureRegistries: [token.host], retries: 0 });
    const error = await pushImage(client, await createTestImage(), [
      parseReference(`${token.host}/anon/app:1`),
    ]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    expect((error as KilnError).hint).toContain('no credential source');
    await client.close();
  });

  it('credHelpers: runs docker-credential-<name> get with the registry host', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'kiln-helper-'));
    const helper = join(bin, 'docker-credential-kilntest');
    await writeFile(
      helper,
      `#!/bin/sh\nread server\necho "$server" > ${bin}/asked\nprintf '{"ServerURL":"%s","Username":"${basic.username}","Secret":"${basic.password}"}' "$server"\n`,
    );
    await chmod(helper, 0o755);
    const dir = await mkdtemp(join(tmpdir(), 'kiln-helper-config-'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [basic.host]: 'kilntest' } }));
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const client = createRegistryClient({
        insecureRegistries: [basic.host],
        credentials: await loadDockerConfig({ env: { DOCKER_CONFIG: dir } }),
      });
      await pushImage(client, await createTestImage(), [parseReference(`${basic.host}/helper/app:1`)]);
      expect((await readFile(join(bin, 'asked'), 'utf8')).trim()).toBe(basic.host);
      await client.close();
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('TLS', () => {
  const reference = () => parseReference(`${tls.host}/secure/app:1`);

  it('refuses an unknown CA with an x509 error and a --registry-certificate hint', async () => {
    const client = createRegistryClient({ retries: 0 });
    const error = await pushImage(client, await createTestImage(), [reference()]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'REGISTRY_TLS_ERROR' });
    expect((error as KilnError).message).toContain('x509: certificate signed by unknown authority');
    expect((error as KilnError).hint).toContain(`--registry-certificate ${tls.host}=`);
    await client.close();
  });

  it('trusts the registry CA for its token realm on another port too (as GitLab serves it)', async () => {
    const secureToken = await startRegistry({ mode: 'token', tls: true });
    try {
      const client = createRegistryClient({
        certificates: { [secureToken.host]: secureToken.caFile! },
        credentials: await loadDockerConfig({ env: { DOCKER_CONFIG: await secureToken.dockerConfig() } }),
      });
      await pushImage(client, await createTestImage(), [parseReference(`${secureToken.host}/gl/app:1`)]);
      expect(secureToken.tokenRequests!.at(-1)).toMatchObject({ granted: true });
      await client.close();
    } finally {
      await secureToken.stop();
    }
  });

  it('refuses a missing CA file up front', () => {
    expect(() => createRegistryClient({ certificates: { [tls.host]: '/nonexistent/ca.pem' } })).toThrow(
      expect.objectContaining({ code: 'REGISTRY_CERTIFICATE_UNREADABLE' }),
    );
  });

  it('trusts the CA given for the host, or skips verification when asked', async () => {
    const trusted = createRegistryClient({ certificates: { [tls.host]: tls.caFile! } });
    await pushImage(trusted, await createTestImage(), [reference()]);
    await trusted.close();
    // An extra bundle trusted for every registry, as /kaniko/ssl/certs/additional-ca-cert-bundle.crt is.
    const bundled = createRegistryClient({ caBundles: [tls.caFile!] });
    expect((await pullImage(bundled, reference(), { store: await emptyStore() })).layers).toHaveLength(2);
    await bundled.close();
    const skipping = createRegistryClient({ skipTlsVerify: true });
    const pulled = await pullImage(skipping, reference(), { store: await emptyStore() });
    expect(pulled.layers).toHaveLength(2);
    await skipping.close();
  });
});
