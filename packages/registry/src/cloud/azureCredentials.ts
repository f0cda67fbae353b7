import type { Credential } from '../dockerConfig.ts';
import { requestJson } from './environmentCredentials.ts';

export function isAzureRegistry(registry: string): boolean {
  return /\.azurecr\.(io|cn|us)$/.test(registry.split(':')[0] ?? registry);
}

/**
 * Azure Container Registry from a service principal in the environment (`AZURE_CLIENT_ID`,
 * `AZURE_CLIENT_SECRET`, `AZURE_TENANT_ID`; `AZURE_AUTHORITY_HOST` for other clouds), as Kaniko's
 * ACR helper does it: an AAD token, exchanged at the registry's `/oauth2/exchange` for an ACR
 * refresh token, which logs in with ACR's all-zero user name.
 */
export async function azureCredentials(
  registry: string,
  env: NodeJS.ProcessEnv,
  exchangeBase = `https://${registry}`,
): Promise<Credential | undefined> {
  const { AZURE_CLIENT_ID: clientId, AZURE_CLIENT_SECRET: secret, AZURE_TENANT_ID: tenant } = env;
  if (!clientId || !secret || !tenant) return undefined;
  const authority = (env.AZURE_AUTHORITY_HOST || 'https://login.microsoftonline.com').replace(/\/+$/, '');
  const aad = await requestJson<{ access_token?: string }>(`${authority}/${tenant}/oauth2/v2.0/token`, {
    form: {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
      scope: 'https://management.azure.com/.default',
    },
  });
  if (!aad.access_token) throw new Error('Azure AD returned no access_token');
  const exchanged = await requestJson<{ refresh_token?: string }>(`${exchangeBase}/oauth2/exchange`, {
    form: { grant_type: 'access_token', service: registry, tenant, access_token: aad.access_token },
  });
  if (!exchanged.refresh_token) throw new Error(`${registry} returned no refresh_token`);
  return { username: '00000000-0000-0000-0000-000000000000', password: exchanged.refresh_token };
}
