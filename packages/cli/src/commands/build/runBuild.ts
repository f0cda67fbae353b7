import { type BuildEvent, build, checkOutputPaths } from '@kiln/builder';
import { interruptSignals } from '../../interruptSignals.ts';
import type { Output } from '../../output.ts';
import type { RegistryFlags } from '../../registryOptions.ts';
import { createReporter, digestResult, type LogFormat } from '../../reporter/createReporter.ts';
import { requestFromFlags } from './requestFromFlags.ts';
import { parseSshFlag } from './secretFlags.ts';
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
  /** The gzip level when `compressionLevel` is not given (the command's default, not a flag). */
  defaultGzipLevel?: number;
  customPlatform?: string;
  /** `--platform`: comma lists, repeatable. */
  platform?: string[];
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
  const request = await requestFromFlags(flags);
  const sshFlags = (flags.ssh ?? []).map((value) => parseSshFlag(value));
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
  const agents = await openSshAgents(sshFlags);
  if (agents.sources.length > 0) request.ssh = agents.sources;
  let failed = false;
  let traceFailure: Error | undefined;
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
    // After build() has cleaned up, and never hiding the build's own error.
    if (trace && flags.trace) traceFailure = await trace.write(flags.trace);
    if (traceFailure && failed) output.error(`warning: ${traceFailure.message}`);
  }
  // Reached only when the build itself succeeded: then a trace that could not be written fails it.
  if (traceFailure) throw traceFailure;
}
