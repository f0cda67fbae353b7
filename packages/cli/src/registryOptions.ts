import { KilnError } from '@kiln/errors';
import { loadDockerConfig, type RegistryClientOptions, type RegistryEventHandler } from '@kiln/registry';
import type { Command } from 'commander';

/** The registry and credential flags `kiln build`, `kiln pull` and `kiln push` share (Kaniko's names). */
export interface RegistryFlags {
  insecure?: boolean;
  insecurePull?: boolean;
  skipTlsVerifyPull?: boolean;
  insecureRegistry: string[];
  skipTlsVerify?: boolean;
  skipTlsVerifyRegistry: string[];
  registryCertificate: string[];
  registryMirror: string[];
  pushRetry: number;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0)
    throw new KilnError('INVALID_FLAG', `--push-retry expects a count, got "${value}"`, { exitCode: 2 });
  return count;
}

/** Declares the shared registry flags on a command. */
export function addRegistryOptions(command: Command): Command {
  return command
    .option('--insecure', 'talk to every registry over plain HTTP')
    .option('--insecure-pull', 'same as --insecure (Kaniko splits push and pull; Kiln uses one client)')
    .option('--insecure-registry <host>', 'talk to this registry over plain HTTP (repeatable)', collect, [])
    .option('--skip-tls-verify', 'do not verify registry TLS certificates')
    .option('--skip-tls-verify-pull', 'same as --skip-tls-verify (accepted for Kaniko command lines)')
    .option(
      '--skip-tls-verify-registry <host>',
      'do not verify TLS certificates of this registry (repeatable)',
      collect,
      [],
    )
    .option('--registry-certificate <host=ca.pem>', 'trust this CA for a registry (repeatable)', collect, [])
    .option(
      '--registry-mirror <host>',
      'pull Docker Hub images from this mirror first (repeatable)',
      collect,
      [],
    )
    .option('--push-retry <n>', 'retries per registry operation on 5xx, 429 and resets', parseCount, 3);
}

/** `--registry-certificate host=path/to/ca.pem` (repeatable) → CA file per registry host. */
export function parseRegistryCertificates(values: string[]): Record<string, string> {
  const certificates: Record<string, string> = {};
  for (const entry of values) {
    const equals = entry.indexOf('=');
    if (equals <= 0 || equals === entry.length - 1) {
      throw new KilnError(
        'INVALID_FLAG',
        `--registry-certificate expects host=path/to/ca.pem, got "${entry}"`,
        {
          exitCode: 2,
        },
      );
    }
    certificates[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return certificates;
}

/** Client options from the flags, with credentials from Docker's config.json ($DOCKER_CONFIG, ~/.docker, /kaniko/.docker). */
export async function registryClientOptions(
  flags: RegistryFlags,
  onEvent?: RegistryEventHandler,
): Promise<RegistryClientOptions> {
  const certificates = parseRegistryCertificates(flags.registryCertificate);
  return {
    credentials: await loadDockerConfig(),
    insecureRegistries: flags.insecure || flags.insecurePull ? true : flags.insecureRegistry,
    skipTlsVerify: flags.skipTlsVerify || flags.skipTlsVerifyPull ? true : flags.skipTlsVerifyRegistry,
    certificates,
    mirrors: flags.registryMirror,
    retries: flags.pushRetry,
    ...(onEvent === undefined ? {} : { onEvent }),
  };
}
