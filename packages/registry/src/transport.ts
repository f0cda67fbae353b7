import { existsSync, readFileSync } from 'node:fs';
import { getCACertificates } from 'node:tls';
import { KilnError } from '@kiln/errors';
import { Agent, buildConnector, type Dispatcher, EnvHttpProxyAgent } from 'undici';
import { registerSecret } from './redact.ts';

/** The CA bundle Kaniko's users append private CAs to; honoured whenever it exists. */
export const kanikoAdditionalCaBundle = '/kaniko/ssl/certs/additional-ca-cert-bundle.crt';

export interface TransportOptions {
  /** Registries spoken to over plain HTTP (`--insecure-registry`), or `true` for all (`--insecure`). */
  insecureRegistries?: string[] | true;
  /** Skip certificate verification: `true` for all registries, or a list (`--skip-tls-verify-registry`). */
  skipTlsVerify?: boolean | string[];
  /** Extra CA per registry host: `{ 'reg.example.com:5000': '/path/ca.pem' }` (`--registry-certificate`). */
  certificates?: Record<string, string>;
  /** Extra CA bundles trusted for every registry (the Kaniko bundle is added when present). */
  caBundles?: string[];
  /** Longest wait for response headers, or between body bytes, before the request counts as failed (default 5 min). */
  requestTimeoutMs?: number;
  /** Mutual TLS: a client certificate and key (PEM files) per registry host (`--registry-client-cert`). */
  clientCertificates?: Record<string, ClientCertificate>;
  /**
   * Registries Kiln writes to (destinations, the cache repository): they get `push`, every other
   * registry gets `pull`, as Kaniko splits `--insecure` from `--insecure-pull`. Without it, both.
   */
  pushRegistries?: string[];
  /** Settings for registries Kiln only reads from (`--insecure-pull`, `--skip-tls-verify-pull`). */
  pull?: DirectionSettings;
  /** Settings for the registries in `pushRegistries` (`--insecure`). */
  push?: DirectionSettings;
  /** HTTP(S) proxies; default from `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` (either case), as Go honours them for Kaniko. */
  proxy?: ProxySettings;
}

export interface ClientCertificate {
  certFile: string;
  keyFile: string;
}

export interface DirectionSettings {
  /** Plain HTTP. */
  insecure?: boolean;
  /** No certificate verification. */
  skipTlsVerify?: boolean;
}

export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

function proxyFromEnvironment(env: NodeJS.ProcessEnv): ProxySettings {
  const pick = (name: string) => env[name.toLowerCase()] || env[name] || undefined;
  const settings: ProxySettings = {};
  const httpProxy = pick('HTTP_PROXY');
  const httpsProxy = pick('HTTPS_PROXY');
  const noProxy = pick('NO_PROXY');
  if (httpProxy) settings.httpProxy = httpProxy;
  if (httpsProxy) settings.httpsProxy = httpsProxy;
  if (noProxy) settings.noProxy = noProxy;
  return settings;
}

/** Connection settings per registry: scheme and an undici Agent with that registry's TLS trust. */
export class Transport {
  readonly #options: TransportOptions;
  readonly #agents = new Map<string, Dispatcher>();
  readonly #proxy: ProxySettings;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#proxy = options.proxy ?? proxyFromEnvironment(process.env);
    for (const url of [this.#proxy.httpProxy, this.#proxy.httpsProxy]) {
      if (url !== undefined && URL.canParse(url))
        registerSecret(decodeURIComponent(new URL(url).password) || undefined);
    }
    // A mistyped --registry-certificate path fails before any work, not at the first TLS handshake.
    for (const [registry, file] of Object.entries(options.certificates ?? {})) {
      if (!existsSync(file)) {
        throw new KilnError(
          'REGISTRY_CERTIFICATE_UNREADABLE',
          `CA file ${file} for ${registry} does not exist`,
          {
            hint: 'the --registry-certificate value is host=path/to/ca.pem',
          },
        );
      }
    }
    for (const [registry, { certFile, keyFile }] of Object.entries(options.clientCertificates ?? {})) {
      for (const file of [certFile, keyFile]) {
        if (!existsSync(file)) {
          throw new KilnError(
            'REGISTRY_CERTIFICATE_UNREADABLE',
            `client certificate file ${file} for ${registry} does not exist`,
            { hint: 'the --registry-client-cert value is host=path/to/cert.pem,path/to/key.pem' },
          );
        }
      }
    }
  }

  /** The settings that apply to `registry` for its direction (read-only or written to). */
  #direction(registry: string): DirectionSettings {
    const { pushRegistries, pull = {}, push = {} } = this.#options;
    if (pushRegistries === undefined) {
      return {
        insecure: pull.insecure === true || push.insecure === true,
        skipTlsVerify: pull.skipTlsVerify === true || push.skipTlsVerify === true,
      };
    }
    return pushRegistries.includes(registry) ? push : pull;
  }

  scheme(registry: string): 'http' | 'https' {
    const insecure = this.#options.insecureRegistries;
    const plain = insecure === true || insecure?.includes(registry) || this.#direction(registry).insecure;
    return plain ? 'http' : 'https';
  }

  baseUrl(registry: string): string {
    return `${this.scheme(registry)}://${registry}`;
  }

  /**
   * The dispatcher for `host`. `onBehalfOf` names the registry a token endpoint serves: the realm
   * (often another host, e.g. GitLab's) gets that registry's CA and verification setting too.
   */
  agent(host: string, onBehalfOf = host): Dispatcher {
    const key = `${host} ${onBehalfOf}`;
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      const skip = this.#options.skipTlsVerify;
      const skipped = (name: string) =>
        skip === true ||
        (Array.isArray(skip) && skip.includes(name)) ||
        this.#direction(name).skipTlsVerify === true;
      const verify = !(skipped(host) || skipped(onBehalfOf));
      // The registry's client certificate goes to its token endpoint too, as Go's shared transport does.
      const identity = (): { cert?: string; key?: string } => {
        const files =
          this.#options.clientCertificates?.[host] ?? this.#options.clientCertificates?.[onBehalfOf];
        if (files === undefined) return {};
        return {
          cert: readPem(files.certFile, host, 'client certificate'),
          key: readPem(files.keyFile, host, 'client key'),
        };
      };
      const trust = (): string[] => {
        const ca = [...this.#baseCa()];
        for (const name of new Set([host, onBehalfOf])) {
          const extra = this.#options.certificates?.[name];
          if (extra !== undefined) ca.push(readCa(extra, name));
        }
        return ca;
      };
      let plain: buildConnector.connector | undefined;
      let secure: buildConnector.connector | undefined;
      // Trust is assembled on the first TLS connection: reading the system store costs ~100 ms,
      // which a plain-HTTP registry (or a re-push that is all HEADs) should not pay.
      const connect: buildConnector.connector = (options, callback) => {
        if (options.protocol === 'http:') {
          plain ??= buildConnector({});
          return plain(options, callback);
        }
        if (secure === undefined) {
          try {
            secure = buildConnector({ ca: trust(), rejectUnauthorized: verify, ...identity() });
          } catch (error) {
            return callback(error as Error, null);
          }
        }
        return secure(options, callback);
      };
      const common = {
        connections: 16,
        keepAliveTimeout: 30_000,
        // Big blobs on slow registries: generous deadlines between bytes, none on the whole body.
        headersTimeout: this.#options.requestTimeoutMs ?? 300_000,
        bodyTimeout: this.#options.requestTimeoutMs ?? 300_000,
      };
      const { httpProxy, httpsProxy, noProxy } = this.#proxy;
      agent =
        httpProxy === undefined && httpsProxy === undefined
          ? new Agent({ ...common, connect })
          : new EnvHttpProxyAgent({
              ...common,
              connect,
              // Through a tunnel the registry's TLS is set up by the proxy agent: same trust.
              requestTls: { ca: trust(), rejectUnauthorized: verify, ...identity() },
              ...(httpProxy === undefined ? {} : { httpProxy }),
              ...(httpsProxy === undefined ? {} : { httpsProxy }),
              ...(noProxy === undefined ? {} : { noProxy }),
            });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  #baseCa(): string[] {
    const bundles = [...(this.#options.caBundles ?? [])];
    if (existsSync(kanikoAdditionalCaBundle)) bundles.push(kanikoAdditionalCaBundle);
    return [...rootCertificates(), ...bundles.map((file) => readCa(file, 'all registries'))];
  }

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((agent) => agent.close()));
    this.#agents.clear();
  }
}

let roots: string[] | undefined;

/** `ca` replaces Node's roots, so start from them: bundled, system and NODE_EXTRA_CA_CERTS (read once per process). */
function rootCertificates(): string[] {
  roots ??= [...new Set([...getCACertificates('default'), ...getCACertificates('system')])];
  return roots;
}

function readCa(file: string, registry: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new KilnError('REGISTRY_CERTIFICATE_UNREADABLE', `cannot read CA file ${file} for ${registry}`, {
      hint: 'the --registry-certificate value is host=path/to/ca.pem',
      cause: error,
    });
  }
}

function readPem(file: string, registry: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new KilnError('REGISTRY_CERTIFICATE_UNREADABLE', `cannot read ${what} ${file} for ${registry}`, {
      hint: 'the --registry-client-cert value is host=path/to/cert.pem,path/to/key.pem',
      cause: error,
    });
  }
}

/**
 * go-containerregistry's "localhost heuristic", which Kaniko users rely on for sidecar registries:
 * `localhost`, `*.localhost`, `127.0.0.1`, `::1` and RFC 1918 addresses may fall back to plain HTTP.
 */
export function allowsHttpFallback(registry: string): boolean {
  const host = registry.startsWith('[')
    ? registry.slice(1, registry.indexOf(']'))
    : (registry.split(':')[0] ?? '');
  if (host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host === '::1')
    return true;
  const octets = host.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return false;
  const [a, b] = octets as [number, number];
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}
