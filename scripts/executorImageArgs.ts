import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type ExecutorArchitecture,
  executorArchitectures,
  parseArchitectures,
} from '../images/executor/src/architectures.ts';

export const executorImageUsage = `usage:
  pnpm executor-image --destination HOST[:PORT]/REPO[:TAG] [--insecure] [--ca-file FILE] [--docker-config DIR]
  pnpm executor-image --registry HOST[:PORT] [--repository kiln/executor] [--tag latest] [--insecure]
  pnpm executor-image --stage-only [--context DIR]
options: --arch amd64,arm64 (default both: each tag an image index; one: a plain image),
  --context DIR, --skip-cli-build, --help`;

export interface ExecutorImageArgs {
  /** Build and push, or only stage the context. */
  mode: 'build' | 'stage-only' | 'help';
  registry?: string;
  repository: string;
  tag: string;
  insecure: boolean;
  caFile?: string;
  dockerConfig?: string;
  context: string;
  skipCliBuild: boolean;
  /** Architectures staged and built (`--arch`); default all of them. */
  architectures: ExecutorArchitecture[];
}

/** A command-line mistake: printed as one line and the usage, exit 2, never a stack trace. */
export class UsageError extends Error {}

/**
 * The script's command line. `--destination HOST[:PORT]/REPO[:TAG]` names the image as Kaniko's
 * users do; `--registry`, `--repository` and `--tag` are the older spelling, kept.
 */
export function parseExecutorImageArgs(argv: string[], repoRoot: string): ExecutorImageArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        destination: { type: 'string' },
        registry: { type: 'string' },
        repository: { type: 'string' },
        tag: { type: 'string' },
        insecure: { type: 'boolean', default: false },
        'ca-file': { type: 'string' },
        'docker-config': { type: 'string' },
        context: { type: 'string', default: join(repoRoot, '.work/executor-context') },
        arch: { type: 'string', default: executorArchitectures.join(',') },
        'stage-only': { type: 'boolean', default: false },
        'skip-cli-build': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const string = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  let architectures: ExecutorArchitecture[];
  try {
    architectures = parseArchitectures(string('arch')!);
  } catch (error) {
    throw new UsageError(`--arch: ${error instanceof Error ? error.message : String(error)}`);
  }
  const common = {
    architectures,
    insecure: values.insecure === true,
    context: string('context')!,
    skipCliBuild: values['skip-cli-build'] === true,
    ...(string('ca-file') === undefined ? {} : { caFile: string('ca-file')! }),
    ...(string('docker-config') === undefined ? {} : { dockerConfig: string('docker-config')! }),
  };
  if (values.help === true) return { mode: 'help', repository: '', tag: '', ...common };
  if (values['stage-only'] === true) return { mode: 'stage-only', repository: '', tag: '', ...common };
  const destination = string('destination');
  if (destination !== undefined) {
    if (string('registry') !== undefined || string('repository') !== undefined) {
      throw new UsageError(
        '--destination names the registry and repository: drop --registry and --repository',
      );
    }
    const slash = destination.indexOf('/');
    const path = destination.slice(slash + 1);
    const colon = path.lastIndexOf(':');
    const repository = colon < 0 ? path : path.slice(0, colon);
    const tag = colon < 0 ? (string('tag') ?? 'latest') : path.slice(colon + 1);
    if (slash <= 0 || repository === '' || tag === '' || path.includes('@')) {
      throw new UsageError(`--destination expects HOST[:PORT]/REPO[:TAG], got "${destination}"`);
    }
    return { mode: 'build', registry: destination.slice(0, slash), repository, tag, ...common };
  }
  const registry = string('registry');
  if (registry === undefined)
    throw new UsageError('--destination HOST[:PORT]/REPO[:TAG] is required (or --stage-only)');
  return {
    mode: 'build',
    registry,
    repository: string('repository') ?? 'kiln/executor',
    tag: string('tag') ?? 'latest',
    ...common,
  };
}
