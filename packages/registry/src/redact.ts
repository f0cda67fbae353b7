/**
 * One place that scrubs secrets from anything that may reach a log: error messages, event
 * fields, causes. Known secrets (passwords, tokens loaded from config.json or helpers) are
 * registered as they are read; patterns catch headers, URL userinfo and token-looking strings.
 */
const knownSecrets = new Set<string>();

export function registerSecret(secret: string | undefined): void {
  // Very short values would blank out ordinary words.
  if (secret !== undefined && secret.length >= 4) knownSecrets.add(secret);
}

const patterns: Array<[RegExp, string]> = [
  [/\b(authorization|proxy-authorization)\s*[:=]\s*\S+(\s+\S+)?/gi, '$1: [REDACTED]'],
  [/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/g, '$1 [REDACTED]'],
  [/\b(\w+:\/\/)[^/\s:@]+(:[^/\s@]*)?@/g, '$1[REDACTED]@'],
  [
    /\b(password|passwd|secret|token|access_token|refresh_token|identitytoken|registrytoken|auth)(["']?\s*[:=]\s*["']?)[^\s"'&,}]+/gi,
    '$1$2[REDACTED]',
  ],
  // JWTs: three base64url parts, the first starting with `{"` encoded.
  [/\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}/g, '[REDACTED]'],
];

export function redactSecrets(text: string): string {
  let result = text;
  for (const secret of knownSecrets) {
    if (result.includes(secret)) result = result.split(secret).join('[REDACTED]');
    const encoded = Buffer.from(secret).toString('base64');
    if (result.includes(encoded)) result = result.split(encoded).join('[REDACTED]');
  }
  for (const [pattern, replacement] of patterns) result = result.replace(pattern, replacement);
  return result;
}

/** A cause safe to attach to a KilnError: the message redacted, the error code kept, no headers or bodies. */
export function redactCause(error: unknown): Error | undefined {
  if (error === undefined) return undefined;
  const message = error instanceof Error ? error.message : String(error);
  const safe = new Error(redactSecrets(message)) as Error & { code?: string };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') safe.code = code;
  const inner = (error as { cause?: unknown }).cause;
  if (inner !== undefined && inner !== error) safe.cause = redactCause(inner);
  return safe;
}
