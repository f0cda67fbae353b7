import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KilnError } from '@kiln/errors';
import { parseReference } from '@kiln/image';
import {
  type ClientCertificate,
  loadDockerConfig,
  type RegistryClientOptions,
  type RegistryEventHandler,
  withEnvironmentCredentials,
} from '@kiln/registry';
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
  registryClientCert: string[];
  registryMirror: string[];
  registryMap: string[];
  skipDefaultRegistryFallback?: boolean;
  pushIgnoreImmutableTagErrors?: boolean;
  imageDownloadRetry: number;
  pushRetry: number;
  /** `kiln build`: where it pushes, so `--insecure` applies there and `--insecure-pull` elsewhere. */
  destination?: string[];
  cacheRepo?: string;
  /** Kaniko's directory (`--kaniko-dir`, `KANIKO_DIR`): `.docker/config.json` and `ssl/certs` in it. */
  kanikoDir?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function parseCount(value: string, flag: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0)
    throw new KilnError('INVALID_FLAG', `${flag} expects a count, got "${value}"`, { exitCode: 2 });
  return count;
}

/** Declares the shared registry flags on a command. */
export function addRegistryOptions(command: Command): Command {
  return command
    .option('--insecure', 'push to the destinations (and the cache repository) over plain HTTP')
    .option('--insecure-pull', 'pull base images over plain HTTP')
    .option('--insecure-registry <host>', 'talk to this registry over plain HTTP (repeatable)', collect, [])
    .option('--skip-tls-verify', 'do not verify registry TLS certificates (pushes and pulls, as in Kaniko)')
    .option('--skip-tls-verify-pull', 'do not verify TLS certificates of registries pulled from')
    .option(
      '--skip-tls-verify-registry <host>',
      'do not verify TLS certificates of this registry (repeatable)',
      collect,
      [],
    )
    .option('--registry-certificate <host=ca.pem>', 'trust this CA for a registry (repeatable)', collect, [])
    .option(
      '--registry-client-cert <host=cert.pem,key.pem>',
      'present this client certificate to a registry (mutual TLS; repeatable)',
      collect,
      [],
    )
    .option(
      '--registry-mirror <host[/path]>',
      'pull Docker Hub images from this mirror first (repeatable; also KANIKO_REGISTRY_MIRROR)',
      collect,
      [],
    )
    .option(
      '--registry-map <registry=mirror[;registry=mirror]>',
      'pull images of a registry from this mirror first (repeatable, tried in order; also KANIKO_REGISTRY_MAP)',
      collect,
      [],
    )
    .option(
      '--skip-default-registry-fallback',
      'fail when no mirror has the image instead of pulling from the registry itself',
    )
    .option(
      '--push-ignore-immutable-tag-errors',
      'count a destination whose immutable tag the registry refuses to move (ECR, Artifact Registry) as pushed',
    )
    .option(
      '--image-download-retry <n>',
      'pull a base image again this many times after a failure',
      (value: string) => parseCount(value, '--image-download-retry'),
      0,
    )
    .option(
      '--push-retry <n>',
      'retries per registry operation on 5xx, 429 and resets',
      (value: string) => parseCount(value, '--push-retry'),
      3,
    );
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

/** `--registry-client-cert host=cert.pem,key.pem` (repeatable) → certificate and key per registry host. */
export function parseClientCertificates(values: string[]): Record<string, ClientCertificate> {
  const certificates: Record<string, ClientCertificate> = {};
  for (const entry of values) {
    const equals = entry.indexOf('=');
    const files = equals > 0 ? entry.slice(equals + 1).split(',') : [];
    if (files.length !== 2 || !files[0] || !files[1]) {
      throw new KilnError(
        'INVALID_FLAG',
        `--registry-client-cert expects host=path/to/cert.pem,path/to/key.pem, got "${entry}"`,
        { exitCode: 2 },
      );
    }
    certificates[entry.slice(0, equals)] = { certFile: files[0], keyFile: files[1] };
  }
  return certificates;
}

/**
 * `--registry-map` values as Kaniko reads them: `;`-separated `registry=mirror` pairs, repeatable,
 * one registry may have several mirrors (tried in order). A part without `=` is one more mirror
 * of the registry before it (`a=m1;m2`), which Kaniko would refuse.
 */
export function parseRegistryMap(values: string[]): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const value of values) {
    let registry: string | undefined;
    for (const part of value.split(';')) {
      if (part === '') continue;
      const equals = part.indexOf('=');
      let mirror = part;
      if (equals >= 0) {
        registry = part.slice(0, equals);
        mirror = part.slice(equals + 1);
      }
      if (!registry || !mirror) {
        throw new KilnError(
          'INVALID_FLAG',
          `--registry-map expects registry=mirror[/path][;registry=mirror…], got "${value}"`,
          { exitCode: 2 },
        );
      }
      // Kaniko keys Docker Hub as index.docker.io; docker.io is what users write.
      const key = registry === 'docker.io' ? 'index.docker.io' : registry;
      map[key] = [...(map[key] ?? []), mirror];
    }
  }
  return map;
}

/** The registries a build writes to: its destinations' and the cache repository's. */
function pushRegistries(flags: RegistryFlags): string[] | undefined {
  if (flags.destination === undefined) return undefined;
  const references = [...flags.destination, ...(flags.cacheRepo ? [flags.cacheRepo] : [])];
  const registries = new Set<string>();
  for (const reference of references) {
    try {
      registries.add(parseReference(reference).registry);
    } catch {
      // The build reports a malformed destination itself, with its own error.
    }
  }
  return [...registries];
}

/** Client options from the flags, with credentials from Docker's config.json ($DOCKER_CONFIG, ~/.docker, /kaniko/.docker). */
export async function registryClientOptions(
  flags: RegistryFlags,
  onEvent?: RegistryEventHandler,
): Promise<RegistryClientOptions> {
  const certificates = parseRegistryCertificates(flags.registryCertificate);
  const pushTargets = pushRegistries(flags);
  // Kaniko moves its directory there and points DOCKER_CONFIG at the moved `.docker`.
  const kanikoDir = flags.kanikoDir === undefined ? undefined : resolve(flags.kanikoDir);
  const movedKaniko = kanikoDir !== undefined && kanikoDir !== '/kaniko';
  const caBundle = movedKaniko ? join(kanikoDir, 'ssl/certs/additional-ca-cert-bundle.crt') : undefined;
  return {
    // Then what a CI job or cloud hands out, for registries config.json does not name (as Kaniko).
    credentials: withEnvironmentCredentials(
      await loadDockerConfig(
        movedKaniko ? { env: { ...process.env, DOCKER_CONFIG: join(kanikoDir, '.docker') } } : {},
      ),
    ),
    ...(caBundle !== undefined && existsSync(caBundle) ? { caBundles: [caBundle] } : {}),
    insecureRegistries: flags.insecureRegistry,
    // Kaniko builds one transport for pushes and pulls from --skip-tls-verify, so it covers both.
    skipTlsVerify: flags.skipTlsVerify ? true : flags.skipTlsVerifyRegistry,
    ...(pushTargets === undefined ? {} : { pushRegistries: pushTargets }),
    push: { insecure: Boolean(flags.insecure) },
    pull: { insecure: Boolean(flags.insecurePull), skipTlsVerify: Boolean(flags.skipTlsVerifyPull) },
    certificates,
    clientCertificates: parseClientCertificates(flags.registryClientCert),
    mirrors: flags.registryMirror,
    registryMap: parseRegistryMap(flags.registryMap),
    skipDefaultRegistryFallback: Boolean(flags.skipDefaultRegistryFallback),
    ignoreImmutableTagErrors: Boolean(flags.pushIgnoreImmutableTagErrors),
    imageDownloadRetries: flags.imageDownloadRetry,
    retries: flags.pushRetry,
    ...(onEvent === undefined ? {} : { onEvent }),
  };
}
