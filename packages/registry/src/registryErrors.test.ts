import { describe, expect, it } from 'vitest';
import { httpStatusError, networkError } from './registryErrors.ts';
import { allowsHttpFallback } from './transport.ts';

const context = { registry: 'reg.example:5000', repository: 'team/app', operation: 'push blob sha256:abc' };

describe('registry errors', () => {
  it('names registry, repository, operation and status, with a hint per status', () => {
    const unauthorized = httpStatusError(401, {
      ...context,
      credentialSource: 'auths["reg.example:5000"] in /kaniko/.docker/config.json',
    });
    expect(unauthorized.code).toBe('REGISTRY_UNAUTHORIZED');
    expect(unauthorized.message).toBe(
      'push blob sha256:abc on reg.example:5000/team/app failed with HTTP 401',
    );
    expect(unauthorized.hint).toContain('/kaniko/.docker/config.json');
    expect(httpStatusError(404, context).hint).toContain('repository reg.example:5000/team/app');
    expect(httpStatusError(503, context, 'UNAVAILABLE down').message).toContain('HTTP 503: UNAVAILABLE down');
    expect(httpStatusError(429, context).code).toBe('REGISTRY_RATE_LIMITED');
  });

  it('reads TLS failures like Go does, with the flag that fixes them', () => {
    const unknownCa = networkError(
      new Error('fetch failed', {
        cause: Object.assign(new Error('unable to verify'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
      }),
      context,
    );
    expect(unknownCa.code).toBe('REGISTRY_TLS_ERROR');
    expect(unknownCa.message).toContain('x509: certificate signed by unknown authority');
    expect(unknownCa.hint).toContain('--registry-certificate reg.example:5000=');
    const plain = networkError(
      Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }),
      context,
    );
    expect(plain.code).toBe('REGISTRY_PLAIN_HTTP');
    expect(plain.message).toContain('server gave HTTP response to HTTPS client');
    expect(plain.hint).toContain('--insecure');
    const refused = networkError(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      context,
    );
    expect(refused.code).toBe('REGISTRY_UNREACHABLE');
  });

  it('lets only local registries fall back to plain HTTP', () => {
    for (const host of [
      'localhost',
      'localhost:5000',
      'kind.localhost:5000',
      '127.0.0.1:5000',
      '[::1]:5000',
      '10.1.2.3:5000',
      '172.20.0.2',
      '192.168.1.9:443',
    ]) {
      expect(allowsHttpFallback(host)).toBe(true);
    }
    for (const host of ['registry.example.com', 'ghcr.io', '172.32.0.1:5000', '8.8.8.8', 'index.docker.io']) {
      expect(allowsHttpFallback(host)).toBe(false);
    }
  });
});
