import type { Credential } from '../dockerConfig.ts';
import { normalizeRegistryKey } from '../dockerConfig.ts';

/**
 * GitLab CI's registry: `CI_REGISTRY` names it, `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD` (or the
 * job token as `gitlab-ci-token`) log in, as Kaniko's GitLab helper reads them.
 */
export function gitlabCredentials(registry: string, env: NodeJS.ProcessEnv): Credential | undefined {
  if (!env.CI_REGISTRY || normalizeRegistryKey(env.CI_REGISTRY) !== registry) return undefined;
  if (env.CI_REGISTRY_USER && env.CI_REGISTRY_PASSWORD)
    return { username: env.CI_REGISTRY_USER, password: env.CI_REGISTRY_PASSWORD };
  if (env.CI_JOB_TOKEN) return { username: 'gitlab-ci-token', password: env.CI_JOB_TOKEN };
  return undefined;
}
