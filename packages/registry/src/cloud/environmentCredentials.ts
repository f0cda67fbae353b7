import { KilnError } from '@kiln/errors';
import type { Credential, CredentialLookup, CredentialSource } from '../dockerConfig.ts';
import { redactSecrets, registerSecret } from '../redact.ts';
import { azureCredentials, isAzureRegistry } from './azureCredentials.ts';
import { ecrCredentials, isEcrRegistry } from './ecrCredentials.ts';
import { gitlabCredentials } from './gitlabCredentials.ts';
import { googleCredentials, isGoogleRegistry } from './googleCredentials.ts';

/** A credential Kaniko finds with no configuration, from the environment a cloud or CI gives the job. */
interface EnvironmentProvider {
  /** Names the source in hints; never the secret. */
  name: string;
  applies(registry: string, env: NodeJS.ProcessEnv): boolean;
  get(registry: string, env: NodeJS.ProcessEnv): Promise<Credential | undefined>;
}

const providers: EnvironmentProvider[] = [
  {
    name: 'GitLab CI (CI_REGISTRY_USER/CI_REGISTRY_PASSWORD or CI_JOB_TOKEN)',
    applies: (registry, env) => gitlabCredentials(registry, env) !== undefined,
    get: async (registry, env) => gitlabCredentials(registry, env),
  },
  { name: 'Amazon ECR (GetAuthorizationToken)', applies: isEcrRegistry, get: ecrCredentials },
  {
    name: 'Google (GOOGLE_APPLICATION_CREDENTIALS or the metadata server)',
    applies: isGoogleRegistry,
    get: googleCredentials,
  },
  {
    name: 'Azure (AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID)',
    applies: isAzureRegistry,
    get: azureCredentials,
  },
];

const secretVariables = [
  'CI_REGISTRY_PASSWORD',
  'CI_JOB_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AZURE_CLIENT_SECRET',
];

/**
 * Kaniko's keychain order: Docker's config.json first; for a registry it does not name, the
 * credentials a CI job or cloud hands out (GitLab's variables, ECR, Google, Azure). Each is asked
 * once per registry and only for its own hosts; a failure is a clear error naming the source.
 */
export function withEnvironmentCredentials(
  source: CredentialSource,
  env: NodeJS.ProcessEnv = process.env,
): CredentialSource {
  return {
    async lookup(registry): Promise<CredentialLookup> {
      const configured = await source.lookup(registry);
      if (configured.credential !== undefined) return configured;
      const provider = providers.find((p) => p.applies(registry, env));
      if (provider === undefined) return configured;
      // A token endpoint may echo what it was sent: its secrets are redacted like any other.
      for (const name of secretVariables) registerSecret(env[name]);
      let credential: Credential | undefined;
      try {
        credential = await provider.get(registry, env);
      } catch (error) {
        if (error instanceof KilnError) throw error;
        throw new KilnError(
          'CLOUD_CREDENTIALS_FAILED',
          `cannot get credentials for ${registry} from ${provider.name}: ${redactSecrets(error instanceof Error ? error.message : String(error))}`,
          { hint: 'or put credentials for this registry in config.json ($DOCKER_CONFIG, /kaniko/.docker)' },
        );
      }
      if (credential === undefined) return configured;
      registerSecret(credential.password);
      registerSecret(credential.identityToken);
      registerSecret(credential.registryToken);
      return { credential, source: `${provider.name}; ${configured.source}` };
    },
  };
}

/** POSTs a form (or GETs with headers) and returns the JSON answer; token endpoints' errors, redacted. */
export async function requestJson<T>(
  url: string,
  init: { method?: string; headers?: Record<string, string>; form?: Record<string, string>; json?: unknown },
): Promise<T> {
  const headers: Record<string, string> = { 'user-agent': 'kiln/0.1', ...init.headers };
  let body: string | undefined;
  if (init.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, {
    method: init.method ?? (body ? 'POST' : 'GET'),
    headers,
    ...(body ? { body } : {}),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${new URL(url).host} answered ${response.status}: ${redactSecrets(text.slice(0, 200))}`);
  }
  return JSON.parse(text) as T;
}
