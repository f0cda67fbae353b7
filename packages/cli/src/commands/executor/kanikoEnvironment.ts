import { KilnError } from '@kiln/errors';

/**
 * Applies the environment variables Kaniko's executor reads to a normalised `kiln build` command
 * line, as Kaniko does after parsing its flags: `KANIKO_REGISTRY_MIRROR` and `KANIKO_REGISTRY_MAP`
 * add to the flags, `KANIKO_NO_PUSH` overrides `--no-push` either way, `KANIKO_DIR` applies when
 * `--kaniko-dir` is not given.
 */
export function kanikoEnvironment(args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const words = [...args];
  if (env.KANIKO_REGISTRY_MIRROR) words.push(`--registry-mirror=${env.KANIKO_REGISTRY_MIRROR}`);
  if (env.KANIKO_REGISTRY_MAP) words.push(`--registry-map=${env.KANIKO_REGISTRY_MAP}`);
  let result = words;
  if (env.KANIKO_NO_PUSH !== undefined) {
    const noPush = parseGoBool(env.KANIKO_NO_PUSH, 'KANIKO_NO_PUSH');
    result = words.filter((word) => word !== '--no-push');
    if (noPush) result.push('--no-push');
  }
  const kanikoDirGiven = result.some((word) => /^--kaniko-dir(=|$)/.test(word));
  if (env.KANIKO_DIR && !kanikoDirGiven) result.push(`--kaniko-dir=${env.KANIKO_DIR}`);
  return result;
}

/** Go's strconv.ParseBool, which Kaniko uses for KANIKO_NO_PUSH. */
function parseGoBool(value: string, name: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new KilnError('INVALID_ENVIRONMENT', `${name} expects true or false, got "${value}"`, {
    exitCode: 2,
  });
}
