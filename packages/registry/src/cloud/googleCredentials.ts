import { createSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Credential } from '../dockerConfig.ts';
import { requestJson } from './environmentCredentials.ts';

/** Container Registry (`gcr.io`, `*.gcr.io`) and Artifact Registry (`*-docker.pkg.dev`). */
export function isGoogleRegistry(registry: string): boolean {
  const host = registry.split(':')[0] ?? registry;
  return host === 'gcr.io' || host.endsWith('.gcr.io') || host.endsWith('-docker.pkg.dev');
}

const scope = 'https://www.googleapis.com/auth/cloud-platform';

interface ServiceAccountKey {
  type?: string;
  client_email?: string;
  private_key?: string;
  token_uri?: string;
}

/**
 * An OAuth2 access token as the registry password (user `oauth2accesstoken`), as go-containerregistry's
 * Google keychain gets it: from the service-account key in `GOOGLE_APPLICATION_CREDENTIALS` (a
 * signed JWT exchanged at the key's `token_uri`), else from the metadata server
 * (`GCE_METADATA_HOST`, default `metadata.google.internal`). Written here rather than with
 * google-auth-library: the two flows are a signed JWT and one GET, and the bundle stays small.
 */
export async function googleCredentials(
  _registry: string,
  env: NodeJS.ProcessEnv,
): Promise<Credential | undefined> {
  const token = env.GOOGLE_APPLICATION_CREDENTIALS
    ? await serviceAccountToken(env.GOOGLE_APPLICATION_CREDENTIALS)
    : await metadataToken(env.GCE_METADATA_HOST || 'metadata.google.internal');
  return { username: 'oauth2accesstoken', password: token };
}

async function serviceAccountToken(file: string): Promise<string> {
  const key = JSON.parse(await readFile(file, 'utf8')) as ServiceAccountKey;
  if (key.type !== 'service_account' || !key.client_email || !key.private_key) {
    throw new Error(`${file} is not a service-account key (type, client_email, private_key)`);
  }
  const tokenUri = key.token_uri ?? 'https://oauth2.googleapis.com/token';
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({
    iss: key.client_email,
    scope,
    aud: tokenUri,
    iat: now,
    exp: now + 3600,
  })}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(key.private_key).toString('base64url');
  const answer = await requestJson<{ access_token?: string }>(tokenUri, {
    form: {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: `${unsigned}.${signature}`,
    },
  });
  if (!answer.access_token) throw new Error(`${new URL(tokenUri).host} returned no access_token`);
  return answer.access_token;
}

async function metadataToken(host: string): Promise<string> {
  const answer = await requestJson<{ access_token?: string }>(
    `http://${host}/computeMetadata/v1/instance/service-accounts/default/token?scopes=${encodeURIComponent(scope)}`,
    { headers: { 'metadata-flavor': 'Google' } },
  );
  if (!answer.access_token) throw new Error(`the metadata server at ${host} returned no access_token`);
  return answer.access_token;
}
