import type { Readable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import { type Dispatcher, request as undiciRequest } from 'undici';
import { type AuthChallenge, parseAuthChallenge } from './authChallenge.ts';
import type { Credential, CredentialLookup, CredentialSource } from './dockerConfig.ts';
import type { RegistryEvent, RegistryEventHandler } from './events.ts';
import { redactSecrets, registerSecret } from './redact.ts';
import { type ErrorContext, httpStatusError, networkError } from './registryErrors.ts';
import { isRetryableStatus, RetryableStatusError, type RetryPolicy, withRetry } from './retry.ts';
import { allowsHttpFallback, Transport, type TransportOptions } from './transport.ts';

export interface RegistryClientOptions extends TransportOptions {
  /** Where credentials come from (`loadDockerConfig()`); anonymous when omitted. */
  credentials?: CredentialSource;
  /** Docker Hub mirrors tried in order before Docker Hub (`--registry-mirror`): `host[:port][/prefix]`. */
  mirrors?: string[];
  /** Pull-through mirrors of any registry, tried in order before it (`--registry-map`): registry → `host[:port][/prefix]`s. */
  registryMap?: Record<string, string[]>;
  /** A reference whose registry has mirrors fails when none has it, rather than trying the registry itself. */
  skipDefaultRegistryFallback?: boolean;
  /**
   * Kaniko's `--push-ignore-immutable-tag-errors`: a destination whose tag the registry refuses to
   * move (ECR, Artifact Registry tag immutability) counts as pushed; an `immutable-tag` event says so.
   */
  ignoreImmutableTagErrors?: boolean;
  /** Whole-image pull attempts after the first fails (`--image-download-retry`), one second apart; default 0. */
  imageDownloadRetries?: number;
  /** Retries per operation on 5xx, 429 and connection failures (`--push-retry`); default 3. */
  retries?: number;
  /** First retry delay in ms (doubles, with jitter); default 500. */
  retryBaseDelayMs?: number;
  /** Blobs transferred at once; default 4. */
  concurrency?: number;
  /** Upload blobs larger than this in PATCH chunks of this size (resumable); default: one request per blob. */
  chunkSize?: number;
  onEvent?: RegistryEventHandler;
  /**
   * Ends every request, body transfer and retry wait of this client when aborted (a build
   * interrupted by a signal); each then fails with the signal's reason. Nothing is sent after it.
   */
  signal?: AbortSignal;
}

export interface RegistryRequest {
  registry: string;
  /** Repository the request acts on; with `actions`, the token scope. */
  repository: string;
  /** `pull` or `pull,push` on `repository`. */
  actions: string;
  /** More scopes, e.g. `repository:source:pull` for a cross-repository mount. */
  extraScopes?: string[];
  method: Dispatcher.HttpMethod;
  /** A path under the registry (`/v2/…`) or an absolute URL from a Location header. */
  url: string;
  headers?: Record<string, string>;
  /** A factory so the body can be sent again after an auth refresh. */
  body?: () => string | Buffer | Uint8Array | Readable;
  operation: string;
}

export type RegistryResponse = Dispatcher.ResponseData;

/** Names what an operation acts on, for events and error messages. */
export interface OperationTarget {
  registry: string;
  repository?: string;
  operation: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * The connection to every registry a build talks to: transport and TLS per registry, the
 * `/v2/` ping that learns each registry's auth scheme, Basic credentials and bearer tokens
 * cached per scope, and the retry policy. Operations (manifests, blobs, push, pull) use it.
 */
export class RegistryClient {
  readonly transport: Transport;
  readonly retryPolicy: RetryPolicy;
  readonly concurrency: number;
  readonly chunkSize: number | undefined;
  readonly mirrors: string[];
  readonly signal: AbortSignal | undefined;
  readonly registryMap: Record<string, string[]>;
  readonly skipDefaultRegistryFallback: boolean;
  readonly imageDownloadRetries: number;
  readonly ignoreImmutableTagErrors: boolean;
  readonly #credentials: CredentialSource | undefined;
  readonly #onEvent: RegistryEventHandler | undefined;
  readonly #challenges = new Map<string, Promise<AuthChallenge | undefined>>();
  /** Registries found to speak plain HTTP by the ping's fallback. */
  readonly #plainHttp = new Set<string>();
  readonly #lookups = new Map<string, Promise<CredentialLookup>>();
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(options: RegistryClientOptions = {}) {
    this.transport = new Transport(options);
    this.retryPolicy = {
      retries: options.retries ?? 3,
      baseDelayMs: options.retryBaseDelayMs ?? 500,
      maxDelayMs: 10_000,
    };
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.chunkSize = options.chunkSize;
    this.mirrors = options.mirrors ?? [];
    this.signal = options.signal;
    this.registryMap = options.registryMap ?? {};
    this.skipDefaultRegistryFallback = options.skipDefaultRegistryFallback ?? false;
    this.imageDownloadRetries = options.imageDownloadRetries ?? 0;
    this.ignoreImmutableTagErrors = options.ignoreImmutableTagErrors ?? false;
    this.#credentials = options.credentials;
    this.#onEvent = options.onEvent;
  }

  emit(event: RegistryEvent): void {
    this.#onEvent?.(event);
  }

  /**
   * Retries `attempt` under the client's policy, reporting each retry as an event; a connection
   * failure left when the retries are spent becomes a KilnError naming the registry.
   */
  async retry<T>(where: OperationTarget, attempt: (n: number) => Promise<T>): Promise<T> {
    try {
      return await withRetry(
        this.retryPolicy,
        attempt,
        (n, delayMs, reason) =>
          this.emit({
            type: 'retry',
            registry: where.registry,
            operation: where.operation,
            attempt: n,
            delayMs,
            reason,
          }),
        this.signal,
      );
    } catch (error) {
      if (this.signal?.aborted) throw this.signal.reason;
      if (error instanceof KilnError) throw error;
      throw networkError(error, this.errorContext(where));
    }
  }

  async credentialSource(registry: string): Promise<string> {
    return (await this.#lookup(registry)).source;
  }

  errorContext(request: OperationTarget, source?: string): ErrorContext {
    return {
      registry: request.registry,
      ...(request.repository === undefined ? {} : { repository: request.repository }),
      operation: request.operation,
      ...(source === undefined ? {} : { credentialSource: source }),
    };
  }

  /**
   * Sends one request with the right credentials; on a 401 it refreshes the token (new scope
   * or expiry) and sends once more. Does not retry: operations decide what can be replayed.
   */
  async send(request: RegistryRequest): Promise<RegistryResponse> {
    const challenge = await this.#challenge(request.registry, request);
    const scopes = [`repository:${request.repository}:${request.actions}`, ...(request.extraScopes ?? [])];
    const authorization = await this.#authorization(request, challenge, scopes);
    let response = await this.#dispatch(request, authorization);
    if (response.statusCode === 401 && challenge !== undefined) {
      await response.body.dump();
      const fresh = parseAuthChallenge(headerValue(response.headers['www-authenticate'])) ?? challenge;
      if (fresh.scope !== undefined) scopes.push(...fresh.scope.split(' '));
      const renewed = await this.#authorization(request, fresh, [...new Set(scopes)], authorization);
      response = await this.#dispatch(request, renewed);
    }
    return response;
  }

  /** send() that turns 5xx/429 into retryable errors and other unexpected statuses into KilnErrors. */
  async sendExpecting(request: RegistryRequest, expected: number[]): Promise<RegistryResponse> {
    const response = await this.send(request);
    if (expected.includes(response.statusCode)) return response;
    throw await this.statusError(request, response);
  }

  async statusError(request: RegistryRequest, response: RegistryResponse): Promise<Error> {
    const detail = await readErrorDetail(response);
    const source =
      response.statusCode === 401 || response.statusCode === 403
        ? await this.credentialSource(request.registry)
        : undefined;
    const final = httpStatusError(response.statusCode, this.errorContext(request, source), detail);
    if (isRetryableStatus(response.statusCode)) {
      return new RetryableStatusError(
        response.statusCode,
        headerValue(response.headers['retry-after']),
        final,
      );
    }
    return final;
  }

  async #dispatch(request: RegistryRequest, authorization: string | undefined): Promise<RegistryResponse> {
    this.signal?.throwIfAborted();
    const url = new URL(request.url, this.baseUrl(request.registry));
    const headers: Record<string, string> = { 'user-agent': 'kiln/0.1', ...request.headers };
    // Credentials go only to the registry itself, never to a redirect target or another host.
    if (authorization !== undefined && url.host === request.registry) headers.authorization = authorization;
    try {
      return await undiciRequest(url, {
        method: request.method,
        headers,
        body: request.body?.(),
        dispatcher: this.transport.agent(request.registry),
        ...(this.signal ? { signal: this.signal } : {}),
      });
    } catch (error) {
      if (this.signal?.aborted) throw this.signal.reason;
      if (error instanceof KilnError || isConnectionFailure(error)) throw error;
      throw networkError(error, this.errorContext(request));
    }
  }

  /** `https://host` or `http://host`: as configured, or as the ping found out. */
  baseUrl(registry: string): string {
    return this.#plainHttp.has(registry) ? `http://${registry}` : this.transport.baseUrl(registry);
  }

  #lookup(registry: string): Promise<CredentialLookup> {
    let lookup = this.#lookups.get(registry);
    if (lookup === undefined) {
      lookup =
        this.#credentials?.lookup(registry) ??
        Promise.resolve({ credential: undefined, source: 'no credential source' });
      this.#lookups.set(registry, lookup);
    }
    return lookup;
  }

  /** `GET /v2/` once per registry: no challenge (open), Basic, or Bearer with its realm. */
  #challenge(registry: string, request: RegistryRequest): Promise<AuthChallenge | undefined> {
    let challenge = this.#challenges.get(registry);
    if (challenge === undefined) {
      const ping: RegistryRequest = {
        ...request,
        method: 'GET',
        url: '/v2/',
        operation: 'ping',
        headers: {},
      };
      delete ping.body;
      const attempt = async (): Promise<AuthChallenge | undefined> => {
        const response = await this.#dispatch(ping, undefined);
        await response.body.dump();
        if (response.statusCode === 401) {
          return parseAuthChallenge(headerValue(response.headers['www-authenticate']));
        }
        if (isRetryableStatus(response.statusCode)) throw await this.statusError(ping, response);
        return undefined;
      };
      challenge = (async () => {
        // Like go-containerregistry (Kaniko): local registries get HTTPS first, then plain HTTP.
        if (this.transport.scheme(registry) === 'https' && allowsHttpFallback(registry)) {
          try {
            return await this.retry(ping, attempt);
          } catch (error) {
            if (!(error instanceof KilnError && error.code === 'REGISTRY_PLAIN_HTTP')) throw error;
            this.#plainHttp.add(registry);
          }
        }
        return this.retry(ping, attempt);
      })();
      challenge.catch(() => this.#challenges.delete(registry));
      this.#challenges.set(registry, challenge);
    }
    return challenge;
  }

  async #authorization(
    request: RegistryRequest,
    challenge: AuthChallenge | undefined,
    scopes: string[],
    /** The authorization a 401 just refused: replaced, unless a parallel request already did. */
    refused?: string,
  ): Promise<string | undefined> {
    if (challenge === undefined) return undefined;
    const { credential } = await this.#lookup(request.registry);
    if (challenge.scheme === 'basic') {
      if (credential?.username === undefined || credential.password === undefined) return undefined;
      return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
    }
    if (credential?.registryToken !== undefined) return `Bearer ${credential.registryToken}`;
    const key = `${request.registry} ${[...scopes].sort().join(' ')}`;
    let cached = this.#tokens.get(key);
    if (cached !== undefined) {
      const token = await cached.catch(() => undefined);
      const usable =
        token !== undefined && token.expiresAt > Date.now() && `Bearer ${token.token}` !== refused;
      if (usable) return `Bearer ${token.token}`;
      // Another request may have started the renewal while this one waited.
      const current = this.#tokens.get(key);
      if (current !== undefined && current !== cached) return `Bearer ${(await current).token}`;
    }
    cached = this.#fetchToken(request, challenge, scopes, credential);
    this.#tokens.set(key, cached);
    cached.catch(() => this.#tokens.delete(key));
    return `Bearer ${(await cached).token}`;
  }

  async #fetchToken(
    request: RegistryRequest,
    challenge: AuthChallenge,
    scopes: string[],
    credential: Credential | undefined,
  ): Promise<CachedToken> {
    if (challenge.realm === undefined) {
      throw new KilnError(
        'REGISTRY_AUTH_FAILED',
        `${request.registry} asked for a bearer token but named no realm`,
      );
    }
    const realm = new URL(challenge.realm);
    const context = {
      ...this.errorContext(request, await this.credentialSource(request.registry)),
      operation: `token for ${scopes.join(' ')}`,
    };
    const answer = await this.retry(context, async () => {
      let response: RegistryResponse;
      try {
        if (credential?.identityToken !== undefined) {
          // Docker's identity token is an OAuth2 refresh token.
          const form = new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: credential.identityToken,
            client_id: 'kiln',
          });
          if (challenge.service !== undefined) form.set('service', challenge.service);
          form.set('scope', scopes.join(' '));
          response = await undiciRequest(realm, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'kiln/0.1' },
            body: form.toString(),
            dispatcher: this.transport.agent(realm.host, request.registry),
            ...(this.signal ? { signal: this.signal } : {}),
          });
        } else {
          const url = new URL(realm);
          if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
          for (const scope of scopes) url.searchParams.append('scope', scope);
          const headers: Record<string, string> = { 'user-agent': 'kiln/0.1' };
          if (credential?.username !== undefined && credential.password !== undefined) {
            url.searchParams.set('account', credential.username);
            headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
          }
          response = await undiciRequest(url, {
            method: 'GET',
            headers,
            dispatcher: this.transport.agent(realm.host, request.registry),
            ...(this.signal ? { signal: this.signal } : {}),
          });
        }
      } catch (error) {
        if (this.signal?.aborted) throw this.signal.reason;
        if (isConnectionFailure(error)) throw error;
        throw networkError(error, context);
      }
      if (response.statusCode !== 200) {
        const detail = await readErrorDetail(response);
        const final = httpStatusError(
          response.statusCode === 400 ? 401 : response.statusCode,
          context,
          detail,
        );
        if (isRetryableStatus(response.statusCode)) {
          throw new RetryableStatusError(
            response.statusCode,
            headerValue(response.headers['retry-after']),
            final,
          );
        }
        throw final;
      }
      return (await response.body.json()) as { token?: string; access_token?: string; expires_in?: number };
    });
    const token = answer.token ?? answer.access_token;
    if (!token)
      throw new KilnError(
        'REGISTRY_AUTH_FAILED',
        `the token endpoint of ${request.registry} returned no token`,
      );
    registerSecret(token);
    // Renew a little early so a token does not expire between check and use.
    const lifetime = Math.max((answer.expires_in ?? 60) - 10, 5);
    return { token, expiresAt: Date.now() + lifetime * 1000 };
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient(options);
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The registry's error JSON (`errors[].code/message`), or the start of the body, for messages. */
export async function readErrorDetail(response: RegistryResponse): Promise<string> {
  let text = '';
  try {
    text = (await response.body.text()).slice(0, 2000);
  } catch {
    return '';
  }
  try {
    const parsed = JSON.parse(text) as {
      errors?: Array<{ code?: string; message?: string }>;
      error?: string;
    };
    if (parsed.errors?.length)
      return parsed.errors.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ');
    if (parsed.error) return parsed.error;
  } catch {}
  return redactSecrets(text.trim().slice(0, 200));
}

/** Resets, refusals and timeouts stay raw so withRetry can classify them; TLS failures do not. */
function isConnectionFailure(error: unknown): boolean {
  return !(error instanceof KilnError) && !isTlsFailure(error);
}

function isTlsFailure(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (/CERT|SSL|TLS|SIGNATURE|ISSUER/.test(code) || code === 'EPROTO'))
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
