import { KilnError } from '@kiln/errors';
import { describe, expect, it } from 'vitest';
import { parseAuthChallenge } from './authChallenge.ts';
import { backoffDelay, isRetryableError, parseRetryAfter, RetryableStatusError, withRetry } from './retry.ts';

const policy = { retries: 3, baseDelayMs: 1, maxDelayMs: 8 };

describe('retries', () => {
  it('parses Retry-After as seconds or an HTTP date, capped at a minute', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('100000')).toBe(60_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    const inFive = new Date(Date.now() + 5000).toUTCString();
    expect(parseRetryAfter(inFive)).toBeGreaterThan(3000);
  });

  it('backs off exponentially with jitter, within bounds, and honours Retry-After', () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const delay = backoffDelay({ retries: 9, baseDelayMs: 100, maxDelayMs: 1000 }, attempt);
      const nominal = Math.min(100 * 2 ** attempt, 1000);
      expect(delay).toBeGreaterThanOrEqual(nominal * 0.5);
      expect(delay).toBeLessThanOrEqual(nominal * 1.5);
    }
    expect(backoffDelay(policy, 0, 1234)).toBe(1234);
  });

  it('classifies what is worth retrying', () => {
    const final = new KilnError('REGISTRY_HTTP_ERROR', 'x');
    expect(isRetryableError(new RetryableStatusError(503, undefined, final))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableError(new KilnError('DIGEST_MISMATCH', 'x'))).toBe(true);
    expect(isRetryableError(new KilnError('REGISTRY_UNAUTHORIZED', 'x'))).toBe(false);
    expect(
      isRetryableError(Object.assign(new Error('tls'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })),
    ).toBe(false);
  });

  it('stops after the retries and throws the final KilnError of a status', async () => {
    let calls = 0;
    const waits: number[] = [];
    const final = new KilnError('REGISTRY_HTTP_ERROR', 'HTTP 503');
    await expect(
      withRetry(
        policy,
        async () => {
          calls++;
          throw new RetryableStatusError(503, undefined, final);
        },
        (_n, delay) => waits.push(delay),
      ),
    ).rejects.toBe(final);
    expect(calls).toBe(4);
    expect(waits).toHaveLength(3);
  });

  it('does not retry what cannot succeed', async () => {
    let calls = 0;
    await expect(
      withRetry(
        policy,
        async () => {
          calls++;
          throw new KilnError('REGISTRY_DENIED', 'no');
        },
        () => {},
      ),
    ).rejects.toMatchObject({ code: 'REGISTRY_DENIED' });
    expect(calls).toBe(1);
  });
});

describe('parseAuthChallenge', () => {
  it('reads Bearer and Basic challenges', () => {
    expect(
      parseAuthChallenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      realm: 'https://auth.example/token',
      service: 'registry.example',
      scope: 'repository:a/b:pull,push',
    });
    expect(parseAuthChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: 'basic',
      realm: 'Registry Realm',
    });
    expect(parseAuthChallenge('Negotiate abc')).toBeUndefined();
    expect(parseAuthChallenge(undefined)).toBeUndefined();
  });
});
