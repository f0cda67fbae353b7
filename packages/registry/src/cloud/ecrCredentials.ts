import type { Credential } from '../dockerConfig.ts';

// `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]`, as amazon-ecr-credential-helper matches them.
const ecrHost = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

export function isEcrRegistry(registry: string): boolean {
  return ecrHost.test(registry);
}

/**
 * ECR's GetAuthorizationToken with the AWS SDK's usual credential chain (environment, web
 * identity, container and instance roles), as Kaniko's ECR helper calls it. The SDK is loaded
 * only when an ECR registry is used. `AWS_ENDPOINT_URL_ECR` / `AWS_ENDPOINT_URL` redirect it.
 */
export async function ecrCredentials(
  registry: string,
  env: NodeJS.ProcessEnv,
): Promise<Credential | undefined> {
  const region = ecrHost.exec(registry)?.[2];
  if (region === undefined) return undefined;
  const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
  const endpoint = env.AWS_ENDPOINT_URL_ECR || env.AWS_ENDPOINT_URL;
  const client = new ECRClient({
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  });
  try {
    const answer = await client.send(new GetAuthorizationTokenCommand({}));
    const token = answer.authorizationData?.[0]?.authorizationToken;
    if (!token) throw new Error('GetAuthorizationToken returned no authorizationToken');
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new Error('the ECR authorization token is not base64 of user:password');
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  } finally {
    client.destroy();
  }
}
