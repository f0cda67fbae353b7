import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { dockerHubRegistry } from '@kiln/image';
import { runCredentialHelper } from './credentialHelper.ts';
import { registerSecret } from './redact.ts';

/** What a registry accepts as proof: Basic credentials, an OAuth2 refresh token, or a ready bearer token. */
export interface Credential {
  username?: string;
  password?: string;
  /** `identitytoken`: exchanged at the token endpoint (OAuth2 refresh_token grant). */
  identityToken?: string;
  /** `registrytoken`: sent as the bearer token as is. */
  registryToken?: string;
}

export interface CredentialLookup {
  credential: Credential | undefined;
  /** Where it came from, or where it was looked for: for 401 hints. Never holds the secret. */
  source: string;
}

export interface CredentialSource {
  lookup(registry: string): Promise<CredentialLookup>;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export interface LoadDockerConfigOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** Read this config.json instead of searching. */
  file?: string;
}

const kanikoConfigDir = '/kaniko/.docker';

/**
 * The directories searched for config.json, in order: `$DOCKER_CONFIG`, `~/.docker`, `/kaniko/.docker`.
 * Kaniko's image sets `DOCKER_CONFIG=/kaniko/.docker/` and go-containerregistry reads
 * `$DOCKER_CONFIG` else `~/.docker`; the last entry keeps `/kaniko/.docker` working when the
 * variable is not set (e.g. a shell in a debug image that does not inherit the image ENV).
 */
export function dockerConfigCandidates(options: LoadDockerConfigOptions = {}): string[] {
  const env = options.env ?? process.env;
  const dirs: string[] = [];
  if (env.DOCKER_CONFIG) dirs.push(env.DOCKER_CONFIG);
  dirs.push(join(options.home ?? env.HOME ?? homedir(), '.docker'), kanikoConfigDir);
  // DOCKER_CONFIG may name the file itself, as Kaniko tolerates.
  return dirs.map((dir) => (dir.endsWith('.json') ? dir : join(dir, 'config.json')));
}

/** Loads the first config.json found (see dockerConfigCandidates); none found means anonymous access. */
export async function loadDockerConfig(options: LoadDockerConfigOptions = {}): Promise<CredentialSource> {
  const candidates = options.file === undefined ? dockerConfigCandidates(options) : [options.file];
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (options.file === undefined && (code === 'ENOENT' || code === 'ENOTDIR')) continue;
      throw new KilnError('INVALID_DOCKER_CONFIG', `cannot read ${file} (${code ?? 'error'})`, {
        hint: 'check the path and its permissions (DOCKER_CONFIG names the directory holding config.json)',
      });
    }
    let config: DockerConfigFile;
    try {
      config = JSON.parse(text) as DockerConfigFile;
    } catch (error) {
      throw new KilnError('INVALID_DOCKER_CONFIG', `${file} is not valid JSON`, {
        hint: 'fix or remove the file; for one registry it reads {"auths":{"host":{"auth":"base64(user:password)"}}}',
        cause: new Error((error as Error).message.replace(/".*"/g, '…')),
      });
    }
    return credentialsFromConfig(config, file);
  }
  return {
    lookup: async () => ({ credential: undefined, source: `no config.json in ${candidates.join(', ')}` }),
  };
}

/** `https://index.docker.io/v1/`, `http://host/v2/`, `HOST:5000` → the registry host as references name it. */
export function normalizeRegistryKey(key: string): string {
  let host = key.trim().replace(/^[a-z]+:\/\//i, '');
  host = host.split('/')[0] ?? host;
  host = host.toLowerCase();
  if (['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(host)) {
    return dockerHubRegistry;
  }
  return host;
}

/** The server URL a credential helper is asked about: Docker Hub's legacy URL, else the host. */
function helperServerUrl(registry: string): string {
  return registry === dockerHubRegistry ? 'https://index.docker.io/v1/' : registry;
}

export function credentialsFromConfig(config: DockerConfigFile, file: string): CredentialSource {
  const auths = new Map<string, { key: string; entry: AuthEntry }>();
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    const registry = normalizeRegistryKey(key);
    // An exact `host` key wins over a URL-shaped one for the same host.
    if (!auths.has(registry) || !key.includes('://')) auths.set(registry, { key, entry });
    registerSecret(entry.auth);
    registerSecret(entry.password);
    registerSecret(entry.identitytoken);
    registerSecret(entry.registrytoken);
  }
  const helpers = new Map<string, string>();
  for (const [key, helper] of Object.entries(config.credHelpers ?? {}))
    helpers.set(normalizeRegistryKey(key), helper);

  return {
    async lookup(registry) {
      const helper = helpers.get(registry);
      if (helper !== undefined) {
        const credential = await runCredentialHelper(helper, helperServerUrl(registry));
        return { credential, source: `credHelpers "${helper}" (docker-credential-${helper}) from ${file}` };
      }
      const found = auths.get(registry);
      const credential = found === undefined ? undefined : credentialFromEntry(found.entry, file, found.key);
      if (credential !== undefined) return { credential, source: `auths["${found!.key}"] in ${file}` };
      if (config.credsStore) {
        const stored = await runCredentialHelper(config.credsStore, helperServerUrl(registry));
        return { credential: stored, source: `credsStore "${config.credsStore}" from ${file}` };
      }
      const keys = [...auths.values()].map((a) => a.key);
      return {
        credential: undefined,
        source: `no auths entry for ${registry} in ${file}${keys.length > 0 ? ` (it has: ${keys.join(', ')})` : ''}`,
      };
    },
  };
}

function credentialFromEntry(entry: AuthEntry, file: string, key: string): Credential | undefined {
  const credential: Credential = {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new KilnError(
        'INVALID_DOCKER_CONFIG',
        `auths["${key}"].auth in ${file} is not base64 of user:password`,
      );
    }
    credential.username = decoded.slice(0, colon);
    credential.password = decoded.slice(colon + 1);
    registerSecret(credential.password);
  }
  if (entry.username && !credential.username) credential.username = entry.username;
  if (entry.password && !credential.password) credential.password = entry.password;
  if (entry.identitytoken) credential.identityToken = entry.identitytoken;
  if (entry.registrytoken) credential.registryToken = entry.registrytoken;
  return Object.keys(credential).length === 0 ? undefined : credential;
}

/** Fixed credentials, e.g. from flags; `source` names them in hints. */
export function staticCredentials(
  byRegistry: Record<string, Credential>,
  source = 'given credentials',
): CredentialSource {
  const normalized = new Map(
    Object.entries(byRegistry).map(([key, value]) => [normalizeRegistryKey(key), value]),
  );
  for (const credential of normalized.values()) {
    registerSecret(credential.password);
    registerSecret(credential.identityToken);
    registerSecret(credential.registryToken);
  }
  return {
    lookup: async (registry) => ({ credential: normalized.get(registry), source }),
  };
}
