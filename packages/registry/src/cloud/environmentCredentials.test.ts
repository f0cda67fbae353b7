import { createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { createReference } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Credential, staticCredentials } from '../dockerConfig.ts';
import { pushImage } from '../pushImage.ts';
import { createRegistryClient } from '../registryClient.ts';
import { createTestImage } from '../testing/testImage.ts';
import { azureCredentials } from './azureCredentials.ts';
import { ecrCredentials } from './ecrCredentials.ts';
import { withEnvironmentCredentials } from './environmentCredentials.ts';
import { googleCredentials } from './googleCredentials.ts';

// No cloud endpoint is reachable here: each token endpoint is a local fake (a node http server
// answering as the service documents it); the credential it yields then logs into the real
// registry, whose user name is set to what that cloud issues.

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let dir: string;
let fake: Server;
let fakeUrl: string;
const seen: Seen[] = [];
let answer: (request: Seen) => { status?: number; json: unknown };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-cloud-credentials-'));
  fake = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const entry = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body };
      seen.push(entry);
      const { status = 200, json } = answer(entry);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => fake?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function pushesWith(registry: TestRegistry, credential: Credential): Promise<void> {
  const client = createRegistryClient({
    insecureRegistries: true,
    retries: 0,
    credentials: staticCredentials({ [registry.host]: credential }),
  });
  try {
    await pushImage(client, await createTestImage([200]), [createReference(registry.host, 'cloud/app', '1')]);
  } finally {
    await client.close();
  }
}

describe('GitLab CI variables', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ mode: 'basic' });
  });
  afterAll(() => registry?.stop());

  it('logs into CI_REGISTRY with CI_REGISTRY_USER/CI_REGISTRY_PASSWORD when config.json does not name it', async () => {
    const env = {
      CI_REGISTRY: registry.host,
      CI_REGISTRY_USER: registry.username,
      CI_REGISTRY_PASSWORD: registry.password,
    };
    const credentials = withEnvironmentCredentials(staticCredentials({}), env);
    const client = createRegistryClient({ insecureRegistries: true, retries: 0, credentials });
    await pushImage(client, await createTestImage([300]), [
      createReference(registry.host, 'gitlab/app', '1'),
    ]);
    await client.close();
    expect((await credentials.lookup(registry.host)).source).toMatch(/^GitLab CI/);

    const anonymous = createRegistryClient({
      insecureRegistries: true,
      retries: 0,
      credentials: withEnvironmentCredentials(staticCredentials({}), { CI_REGISTRY: 'other.example' }),
    });
    await expect(
      pushImage(anonymous, await createTestImage([300]), [createReference(registry.host, 'gitlab/app', '2')]),
    ).rejects.toMatchObject({ code: expect.stringMatching(/AUTH|UNAUTHORIZED|DENIED/) });
    await anonymous.close();
  });

  it('uses the job token when no registry password is given, and config.json wins over both', async () => {
    const env = { CI_REGISTRY: `https://${registry.host}`, CI_JOB_TOKEN: 'job-token-1234' };
    expect(
      (await withEnvironmentCredentials(staticCredentials({}), env).lookup(registry.host)).credential,
    ).toEqual({
      username: 'gitlab-ci-token',
      password: 'job-token-1234',
    });
    const configured = staticCredentials(
      { [registry.host]: { username: 'me', password: 'mine' } },
      'config.json',
    );
    expect(
      (await withEnvironmentCredentials(configured, env).lookup(registry.host)).credential?.username,
    ).toBe('me');
  });
});

describe('Amazon ECR', () => {
  it('signs GetAuthorizationToken with the environment’s keys and logs in with the token it returns', async () => {
    const registry = await startRegistry({ mode: 'basic', username: 'AWS' });
    try {
      answer = () => ({
        json: {
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${registry.password}`).toString('base64'),
              expiresAt: Date.now() / 1000 + 3600,
              proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com',
            },
          ],
        },
      });
      seen.length = 0;
      const env = {
        AWS_ENDPOINT_URL_ECR: fakeUrl,
        AWS_ACCESS_KEY_ID: 'AKIDKILNTEST',
        AWS_SECRET_ACCESS_KEY: 'kiln-secret-access-key',
      };
      const credential = await ecrCredentials('123456789012.dkr.ecr.eu-west-1.amazonaws.com', env);
      expect(credential).toEqual({ username: 'AWS', password: registry.password });
      expect(seen[0]?.headers['x-amz-target']).toBe(
        'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken',
      );
      expect(String(seen[0]?.headers.authorization)).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDKILNTEST\/\d{8}\/eu-west-1\/ecr\/aws4_request/,
      );
      await pushesWith(registry, credential!);
      expect(await ecrCredentials('registry.example.com', env)).toBeUndefined();
    } finally {
      await registry.stop();
    }
  });
});

describe('Google Artifact Registry / GCR', () => {
  it('takes the metadata server’s token (Metadata-Flavor: Google) as oauth2accesstoken', async () => {
    const registry = await startRegistry({ mode: 'token', username: 'oauth2accesstoken' });
    try {
      answer = (request) =>
        request.headers['metadata-flavor'] === 'Google'
          ? { json: { access_token: registry.password, expires_in: 3599, token_type: 'Bearer' } }
          : { status: 403, json: {} };
      seen.length = 0;
      const credential = await googleCredentials('europe-docker.pkg.dev', {
        GCE_METADATA_HOST: new URL(fakeUrl).host,
      });
      expect(seen[0]?.path).toMatch(/^\/computeMetadata\/v1\/instance\/service-accounts\/default\/token/);
      await pushesWith(registry, credential!);
    } finally {
      await registry.stop();
    }
  });

  it('exchanges a JWT signed with the GOOGLE_APPLICATION_CREDENTIALS key at its token_uri', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(dir, 'key.json');
    await writeFile(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        client_email: 'builder@project.iam.gserviceaccount.com',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        token_uri: `${fakeUrl}/token`,
      }),
    );
    answer = (request) => {
      const assertion = new URLSearchParams(request.body).get('assertion') ?? '';
      const [header, claims, signature] = assertion.split('.');
      const valid = createVerify('RSA-SHA256')
        .update(`${header}.${claims}`)
        .verify(publicKey, Buffer.from(signature ?? '', 'base64url'));
      const payload = JSON.parse(Buffer.from(claims ?? '', 'base64url').toString()) as {
        iss: string;
        aud: string;
      };
      return valid &&
        payload.iss === 'builder@project.iam.gserviceaccount.com' &&
        payload.aud === `${fakeUrl}/token`
        ? { json: { access_token: 'ya29.sa-token', expires_in: 3600 } }
        : { status: 400, json: { error: 'invalid_grant' } };
    };
    expect(await googleCredentials('gcr.io', { GOOGLE_APPLICATION_CREDENTIALS: keyFile })).toEqual({
      username: 'oauth2accesstoken',
      password: 'ya29.sa-token',
    });
  });
});

describe('Azure Container Registry', () => {
  it('exchanges an AAD token for an ACR refresh token; a refusal names the source, never the secret', async () => {
    const registry = await startRegistry({ mode: 'basic', username: '00000000-0000-0000-0000-000000000000' });
    try {
      answer = (request) => {
        const form = new URLSearchParams(request.body);
        if (request.path === '/tenant-1/oauth2/v2.0/token') {
          return form.get('client_secret') === 'azure-client-secret-value'
            ? { json: { access_token: 'aad-access-token-value', expires_in: 3600 } }
            : {
                status: 401,
                json: {
                  error: 'invalid_client',
                  error_description: `bad secret ${form.get('client_secret')}`,
                },
              };
        }
        if (request.path === '/oauth2/exchange' && form.get('access_token') === 'aad-access-token-value') {
          return { json: { refresh_token: registry.password } };
        }
        return { status: 400, json: {} };
      };
      const env = {
        AZURE_CLIENT_ID: 'client-1',
        AZURE_CLIENT_SECRET: 'azure-client-secret-value',
        AZURE_TENANT_ID: 'tenant-1',
        AZURE_AUTHORITY_HOST: fakeUrl,
      };
      const credential = await azureCredentials('kiln.azurecr.io', env, fakeUrl);
      expect(credential?.username).toBe('00000000-0000-0000-0000-000000000000');
      await pushesWith(registry, credential!);

      const wrong = { ...env, AZURE_CLIENT_SECRET: 'wrong-secret-value', AZURE_AUTHORITY_HOST: fakeUrl };
      const failure = await withEnvironmentCredentials(staticCredentials({}), wrong)
        .lookup('kiln.azurecr.io')
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'CLOUD_CREDENTIALS_FAILED' });
      expect(String((failure as Error).message)).toContain('Azure');
      expect(String((failure as Error).message)).not.toContain('wrong-secret-value');
    } finally {
      await registry.stop();
    }
  });
});
