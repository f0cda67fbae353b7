import { existsSync, readFileSync } from 'node:fs';
import { getCACertificates } from 'node:tls';
import { kanikoAdditionalCaBundle } from '@kiln/registry';
import { Agent, type Dispatcher, EnvHttpProxyAgent } from 'undici';

export interface HttpClientOptions {
  /** Skip certificate checks (Kaniko's `--git insecure-skip-tls=true`). */
  insecureSkipTls?: boolean;
}

/**
 * The dispatcher for context and Dockerfile downloads: the roots Kaniko trusts (the system pool,
 * Node's bundle and `NODE_EXTRA_CA_CERTS`, plus `/kaniko/ssl/certs/additional-ca-cert-bundle.crt`
 * when present), and the usual `HTTPS_PROXY`/`NO_PROXY` environment.
 */
export function contextDispatcher(options: HttpClientOptions = {}): Dispatcher {
  const ca = [...new Set([...getCACertificates('default'), ...getCACertificates('system')])];
  if (existsSync(kanikoAdditionalCaBundle)) ca.push(readFileSync(kanikoAdditionalCaBundle, 'utf8'));
  const connect = { ca, rejectUnauthorized: !options.insecureSkipTls };
  const proxied = ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'].some(
    (name) => process.env[name],
  );
  return proxied
    ? new EnvHttpProxyAgent({ connect, requestTls: connect, proxyTls: connect })
    : new Agent({ connect });
}
