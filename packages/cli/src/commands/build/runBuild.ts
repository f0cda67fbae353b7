import { writeFile } from 'node:fs/promises';
import { type BuildEvent, type BuildRequest, build, parseCacheTtl } from '@kiln/builder';
import { type Compression, parsePlatform } from '@kiln/image';
import { interruptSignals } from '../../interruptSignals.ts';
import type { Output } from '../../output.ts';
import { readStdin } from '../../readStdin.ts';
import { type RegistryFlags, registryClientOptions } from '../../registryOptions.ts';
import { createReporter, type LogFormat } from '../../reporter/createReporter.ts';
import {
  defined,
  flagEnabled,
  parseBuildArgs,
  parseCount,
  parseLabels,
  snapshotStrategy,
} from './buildArgs.ts';
import { parseSecretFlag, parseSshFlag } from './secretFlags.ts';
import { openSshAgents } from './sshAgents.ts';
import { createTraceRecorder } from './traceRecorder.ts';

export interface BuildFlags extends RegistryFlags {
  context: string;
  dockerfile?: string;
  destination: string[];
  push: boolean;
  tarPath?: string;
  ociLayoutPath?: string;
  digestFile?: string;
  imageNameWithDigestFile?: string;
  imageNameTagWithDigestFile?: string;
  buildArg: string[];
  target?: string;
  secret: string[];
  ssh: string[];
  label: string[];
  snapshotMode: string;
  singleSnapshot?: boolean;
  reproducible?: boolean;
  ignorePath: string[];
  compression: string;
  compressionLevel?: string;
  customPlatform?: string;
  cache?: boolean | string;
  cacheRepo?: string;
  cacheDir?: string;
  cacheTtl?: string;
  /** `--no-push-cache` sets false. */
  pushCache?: boolean;
  cacheCopyLayers?: boolean | string;
  cacheRunLayers?: boolean | string;
  verbosity: string;
  logFormat: string;
  executor: string;
  force?: boolean;
  kilnDir?: string;
  trace?: string;
  skipPushPermissionCheck?: boolean;
}

/** `kiln build`: flags → a build request; the builder's events → the reporter (and --trace). */
export async function runBuild(flags: BuildFlags, output: Output): Promise<void> {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const secrets = (flags.secret ?? []).flatMap((value) => parseSecretFlag(value) ?? []);
  const sshFlags = (flags.ssh ?? []).map((value) => parseSshFlag(value));
  const request: BuildRequest = {
    context: flags.context,
    ...defined({ dockerfile: flags.dockerfile === '-' ? undefined : flags.dockerfile, target: flags.target }),
    ...(flags.dockerfile === '-' ? { dockerfileText: await readStdin() } : {}),
    buildArgs: parseBuildArgs(flags.buildArg),
    labels: parseLabels(flags.label),
    ...(flags.customPlatform ? { platform: parsePlatform(flags.customPlatform) } : {}),
    snapshotStrategy: snapshotStrategy(flags.snapshotMode),
    singleSnapshot: Boolean(flags.singleSnapshot),
    reproducible: Boolean(flags.reproducible),
    ...(process.env.SOURCE_DATE_EPOCH && Number.isFinite(epoch) ? { sourceDateEpoch: epoch } : {}),
    ignorePaths: flags.ignorePath,
    compression: flags.compression as Compression,
    ...(flags.compressionLevel === undefined
      ? {}
      : { compressionLevel: parseCount(flags.compressionLevel, '--compression-level') }),
    executor: flags.executor as 'auto' | 'container' | 'sandbox',
    force: Boolean(flags.force),
    ...defined({ kilnDir: flags.kilnDir }),
    ...(flags.trace ? { keepPaths: [flags.trace] } : {}),
    registry: await registryClientOptions(flags),
    cache: {
      enabled: flags.cache === true || flags.cache === 'true',
      ...defined({ repository: flags.cacheRepo, dir: flags.cacheDir }),
      ...(flags.cacheTtl === undefined ? {} : { ttlMs: parseCacheTtl(flags.cacheTtl) }),
      push: flags.pushCache !== false,
      runLayers: flagEnabled(flags.cacheRunLayers),
      copyLayers: flagEnabled(flags.cacheCopyLayers),
    },
    ...(secrets.length > 0 ? { secrets } : {}),
    outputs: {
      destinations: flags.destination,
      push: flags.push,
      checkPushAccess: !flags.skipPushPermissionCheck,
      ...defined({
        tarPath: flags.tarPath,
        ociLayoutPath: flags.ociLayoutPath,
        digestFile: flags.digestFile,
        imageNameWithDigestFile: flags.imageNameWithDigestFile,
        imageNameTagWithDigestFile: flags.imageNameTagWithDigestFile,
      }),
    },
  };
  const reporter = createReporter({
    format: flags.logFormat as LogFormat,
    verbosity: flags.verbosity,
    output,
    env: process.env,
  });
  const trace = flags.trace ? createTraceRecorder() : undefined;
  const onEvent = (event: BuildEvent) => {
    reporter.onEvent(event);
    trace?.onEvent(event);
  };
  const interrupt = interruptSignals();
  const agents = await openSshAgents(sshFlags);
  if (agents.sources.length > 0) request.ssh = agents.sources;
  try {
    const result = await build(request, { onEvent, signal: interrupt.signal });
    reporter.finish({ digest: result.digest, destinations: result.destinations });
  } catch (error) {
    reporter.fail(error);
    throw error;
  } finally {
    await agents.close();
    interrupt.dispose();
    if (trace && flags.trace) await writeFile(flags.trace, JSON.stringify(trace.toJson()));
  }
}
