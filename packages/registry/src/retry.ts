import { KilnError } from '@kiln/errors';
import { redactSecrets } from './redact.ts';
import { networkErrorCode } from './registryErrors.ts';

export interface RetryPolicy {
  /** Retries after the first attempt (`--push-retry`). */
  retries: number;
  /** First backoff delay; doubled each attempt, with ±50% jitter, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** An HTTP answer worth trying again: 5xx, 429 and 408. Carries Retry-After when the registry sent one. */
export class RetryableStatusError extends Error {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly final: KilnError;

  constructor(status: number, retryAfter: string | undefined, final: KilnError) {
    super(`HTTP ${status}`);
    this.status = status;
    this.retryAfterMs = parseRetryAfter(retryAfter);
    this.final = final;
  }
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

const retryableCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'DIGEST_MISMATCH',
]);

/** Connection resets, timeouts, truncated bodies and blobs that arrived corrupted. */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof RetryableStatusError) return true;
  if (error instanceof KilnError) return error.code === 'DIGEST_MISMATCH';
  const code = networkErrorCode(error);
  if (code !== undefined && retryableCodes.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /socket hang up|other side closed|terminated|premature close/i.test(message);
}

/** Seconds or an HTTP date → milliseconds, capped at a minute so a bad header cannot hang a build. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 60_000) : undefined;
}

export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const exponential = Math.min(policy.baseDelayMs * 2 ** attempt, policy.maxDelayMs);
  return Math.round(exponential * (0.5 + Math.random()));
}

export function describeFailure(error: unknown): string {
  if (error instanceof RetryableStatusError) return error.message;
  const code = networkErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return redactSecrets(code === undefined ? message : `${code}: ${message}`).slice(0, 200);
}

/**
 * Runs `attempt` until it succeeds, fails with something not worth retrying, or the retries are
 * spent; `onRetry` hears about each wait. A status error that runs out of retries becomes its KilnError.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (attemptNumber: number) => Promise<T>,
  onRetry: (attemptNumber: number, delayMs: number, reason: string) => void,
  signal?: AbortSignal,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      signal?.throwIfAborted();
      return await attempt(n);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (n >= policy.retries || !isRetryableError(error)) {
        throw error instanceof RetryableStatusError ? error.final : error;
      }
      const delay = backoffDelay(
        policy,
        n,
        error instanceof RetryableStatusError ? error.retryAfterMs : undefined,
      );
      onRetry(n + 1, delay, describeFailure(error));
      await sleep(delay, signal);
    }
  }
}

/** setTimeout as a promise that an abort ends early, with the signal's reason. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });
}
