import { describe, expect, it } from 'vitest';
import { redactCause, redactSecrets, registerSecret } from './redact.ts';

describe('redactSecrets', () => {
  it('removes headers, URL userinfo, token parameters and JWTs', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz';
    const text = [
      'Authorization: Bearer abcdefghijkl',
      'authorization=Basic a2lsbjpodW50ZXIy',
      'https://kiln:hunter2@registry.example/v2/',
      'POST token?refresh_token=r3fr3sh&scope=x',
      `token ${jwt}`,
      '{"password":"pa55word"}',
    ].join('\n');
    const redacted = redactSecrets(text);
    for (const secret of ['abcdefghijkl', 'a2lsbjpodW50ZXIy', 'hunter2', 'r3fr3sh', jwt, 'pa55word']) {
      expect(redacted).not.toContain(secret);
    }
    expect(redacted).toContain('registry.example/v2/');
    expect(redacted).toContain('scope=x');
  });

  it('removes registered secrets and their base64 form anywhere', () => {
    registerSecret('s3cr3t-from-config');
    const encoded = Buffer.from('s3cr3t-from-config').toString('base64');
    expect(redactSecrets(`helper said s3cr3t-from-config and ${encoded}`)).toBe(
      'helper said [REDACTED] and [REDACTED]',
    );
  });

  it('keeps error codes but redacts messages down the cause chain', () => {
    registerSecret('deep-secret-value');
    const inner = Object.assign(new Error('connect failed for deep-secret-value'), { code: 'ECONNRESET' });
    const outer = new Error('request failed', { cause: inner });
    const safe = redactCause(outer)!;
    expect((safe.cause as Error & { code: string }).code).toBe('ECONNRESET');
    expect(String((safe.cause as Error).message)).not.toContain('deep-secret-value');
  });
});
