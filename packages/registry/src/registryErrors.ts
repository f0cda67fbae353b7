import { KilnError } from '@kiln/errors';
import { redactCause, redactSecrets } from './redact.ts';

export interface ErrorContext {
  registry: string;
  repository?: string;
  /** What was being done, e.g. `push manifest 1.0`, `pull blob sha256:…`. */
  operation: string;
  /** Where credentials were looked for (for 401 hints). */
  credentialSource?: string;
}

/** A KilnError for an HTTP answer the operation cannot continue from, with a hint per status. */
export function httpStatusError(status: number, context: ErrorContext, detail = ''): KilnError {
  const where = `${context.registry}${context.repository === undefined ? '' : `/${context.repository}`}`;
  const suffix = detail === '' ? '' : `: ${redactSecrets(detail).slice(0, 300)}`;
  const message = `${context.operation} on ${where} failed with HTTP ${status}${suffix}`;
  if (status === 401) {
    return new KilnError('REGISTRY_UNAUTHORIZED', message, {
      hint: `credentials for ${context.registry}: ${context.credentialSource ?? 'none found'}; check them, or add them to config.json in $DOCKER_CONFIG`,
    });
  }
  if (status === 403) {
    return new KilnError('REGISTRY_DENIED', message, {
      hint: `the credentials (${context.credentialSource ?? 'none'}) are valid but not allowed to do this on ${where}`,
    });
  }
  if (status === 404) {
    return new KilnError('REGISTRY_NOT_FOUND', message, {
      hint: `check that the repository ${where} and the tag or digest exist`,
    });
  }
  if (status === 429) {
    return new KilnError('REGISTRY_RATE_LIMITED', message, {
      hint: 'the registry is rate limiting; retry later, raise --push-retry, or use --registry-mirror',
    });
  }
  return new KilnError('REGISTRY_HTTP_ERROR', message, {
    hint: status >= 500 ? 'the registry failed; retry, or raise --push-retry' : undefined,
  });
}

const tlsCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);

// undici wraps socket and TLS errors; the most specific code is the deepest non-undici one.
function errorCode(error: unknown): string | undefined {
  const codes: string[] = [];
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes.findLast((code) => !code.startsWith('UND_ERR')) ?? codes[0];
}

/** The innermost error code of a network failure (TLS and socket codes are nested in undici errors). */
export function networkErrorCode(error: unknown): string | undefined {
  return errorCode(error);
}

/** A KilnError for a failure below HTTP: TLS verification, refused or reset connections. */
export function networkError(error: unknown, context: ErrorContext): KilnError {
  const code = errorCode(error) ?? 'UNKNOWN';
  const where = `${context.registry}${context.repository === undefined ? '' : `/${context.repository}`}`;
  const cause = redactCause(error);
  if (tlsCodes.has(code)) {
    return new KilnError(
      'REGISTRY_TLS_ERROR',
      `${context.operation} on ${where}: x509: certificate signed by unknown authority (${code})`,
      {
        hint: `trust the registry's CA with --registry-certificate ${context.registry}=/path/to/ca.pem (or /kaniko/ssl/certs/additional-ca-cert-bundle.crt), or use --skip-tls-verify`,
        cause,
      },
    );
  }
  if (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    code === 'EPROTO'
  ) {
    return new KilnError(
      'REGISTRY_PLAIN_HTTP',
      `${context.operation} on ${where}: http: server gave HTTP response to HTTPS client`,
      {
        hint: `${context.registry} speaks plain HTTP: use --insecure (or --insecure-registry ${context.registry})`,
        cause,
      },
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code.startsWith('ERR_SSL')) {
    const reason =
      code === 'CERT_HAS_EXPIRED'
        ? 'certificate has expired'
        : code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? `certificate is not valid for ${context.registry}`
          : code;
    return new KilnError('REGISTRY_TLS_ERROR', `${context.operation} on ${where}: x509: ${reason}`, {
      hint: `fix the registry's certificate, or use --skip-tls-verify (or --insecure if it speaks plain HTTP)`,
      cause,
    });
  }
  return new KilnError(
    'REGISTRY_UNREACHABLE',
    `${context.operation} on ${where}: ${redactSecrets(cause?.message ?? code)} (${code})`,
    {
      hint: `is ${context.registry} reachable? for a plain-HTTP registry use --insecure`,
      cause,
    },
  );
}
