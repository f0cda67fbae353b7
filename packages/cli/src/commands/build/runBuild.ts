import {
  type BuildEvent,
  type BuildNetwork,
  type BuildRequest,
  build,
  checkOutputPaths,
  parseCacheTtl,
  parseGitFlags,
  writeOutputText,
} from '@kiln/builder';
import { KilnError } from '@kiln/errors';
import { type Compression, parsePlatform } from '@kiln/image';
import { interruptSignals } from '../../interruptSignals.ts';
import type { Output } from '../../output.ts';
import { readStdin } from '../../readStdin.ts';
import { type RegistryFlags, registryClientOptions } from '../../registryOptions.ts';
import { createReporter, digestResult, type LogFormat } from '../../reporter/createReporter.ts';
import {
  defined,
  flagEnabled,
  parseAnnotations,
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
  contextSubPath?: string;
  git: string[];
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
  annotation?: string[];
  snapshotMode: string;
  singleSnapshot?: boolean;
  reproducible?: boolean;
  ignorePath: string[];
  compression: string;
  imageFormat?: 'oci' | 'docker' | 'auto';
  imageFsExtractRetry?: string;
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
  /** Kaniko's directory: the work dir's parent unless --kiln-dir, kept when container mode empties `/`. */
  kanikoDir?: string;
  /** `--no-ignore-var-run` sets false. */
  ignoreVarRun?: boolean;
  trace?: string;
  skipPushPermissionCheck?: boolean;
  network?: string;
  allow?: string[];
}

/** `kiln build`: flags → a build request; the builder's events → the reporter (and --trace). */
export async function runBuild(flags: BuildFlags, output: Output): Promise<void> {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  if (flags.dockerfile === '-' && (flags.context === '-' || flags.context === 'tar://stdin')) {
    throw new KilnError('INVALID_FLAG', 'the Dockerfile and the context cannot both come from stdin', {
      hint: 'put the Dockerfile in the context tarball, or pass it with --dockerfile PATH',
      exitCode: 2,
    });
  }
  const secrets = (flags.secret ?? []).flatMap((value) => parseSecretFlag(value) ?? []);
  const sshFlags = (flags.ssh ?? []).map((value) => parseSshFlag(value));
  const request: BuildRequest = {
    context: flags.context,
    ...defined({ contextSubPath: flags.contextSubPath }),
    ...(flags.git.length > 0 ? { git: parseGitFlags(flags.git) } : {}),
    ...defined({ dockerfile: flags.dockerfile === '-' ? undefined : flags.dockerfile, target: flags.target }),
    ...(flags.dockerfile === '-' ? { dockerfileText: await readStdin() } : {}),
    buildArgs: parseBuildArgs(flags.buildArg),
    labels: parseLabels(flags.label),
    ...(flags.annotation?.length ? { annotations: parseAnnotations(flags.annotation) } : {}),
    ...(flags.customPlatform ? { platform: parsePlatform(flags.customPlatform) } : {}),
    snapshotStrategy: snapshotStrategy(flags.snapshotMode),
    singleSnapshot: Boolean(flags.singleSnapshot),
    reproducible: Boolean(flags.reproducible),
    ...(process.env.SOURCE_DATE_EPOCH && Number.isFinite(epoch) ? { sourceDateEpoch: epoch } : {}),
    ignorePaths: flags.ignorePath,
    compression: flags.compression as Compression,
    ...(flags.imageFormat === undefined ? {} : { imageFormat: flags.imageFormat }),
    ...(flags.imageFsExtractRetry === undefined
      ? {}
      : { imageFsExtractRetries: parseCount(flags.imageFsExtractRetry, '--image-fs-extract-retry') }),
    ...(flags.compressionLevel === undefined
      ? {}
      : { compressionLevel: parseCount(flags.compressionLevel, '--compression-level') }),
    executor: flags.executor as 'auto' | 'container' | 'sandbox',
    force: Boolean(flags.force),
    ...(flags.network ? { network: flags.network as BuildNetwork } : {}),
    ...(flags.allow && flags.allow.length > 0 ? { allow: flags.allow } : {}),
    ...defined({ kilnDir: flags.kilnDir ?? flags.kanikoDir }),
    ...(flags.trace || flags.kanikoDir
      ? { keepPaths: [flags.trace, flags.kanikoDir].filter((path) => path !== undefined) }
      : {}),
    ignoreVarRun: flags.ignoreVarRun !== false,
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
  // The trace is the CLI's own output: checked up front like the builder's.
  if (flags.trace) await checkOutputPaths({ trace: flags.trace });
  const interrupt = interruptSignals();
  let failed = false;
  let traceFailure: unknown;
  const agents = await openSshAgents(sshFlags);
  if (agents.sources.length > 0) request.ssh = agents.sources;
  try {
    const result = await build(request, { onEvent, signal: interrupt.signal });
    reporter.finish(digestResult(result.digest, result.destinations));
  } catch (error) {
    failed = true;
    reporter.fail(error);
    throw error;
  } finally {
    await agents.close();
    interrupt.dispose();
    // After build() has cleaned up: a trace that cannot be written never hides the build's own error.
    if (trace && flags.trace) {
      traceFailure = await writeOutputText('--trace', flags.trace, JSON.stringify(trace.toJson())).then(
        () => undefined,
        (error: unknown) => error ?? new Error('the trace could not be written'),
      );
      if (traceFailure !== undefined && failed)
        output.error(
          `warning: ${traceFailure instanceof Error ? traceFailure.message : String(traceFailure)}`,
        );
    }
  }
  // Reached only when the build itself succeeded.
  if (traceFailure !== undefined) throw traceFailure;
}
