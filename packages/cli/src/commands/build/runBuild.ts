import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BuildEvent, Executor, LayerCache } from '@kiln/builder';
import {
  buildImage,
  checkOutputPaths,
  checkPushAccess,
  createExecutor,
  defaultCacheTtlMs,
  directoryLayerCache,
  lazyRegistryImageSource,
  parseCacheTtl,
  parseDestinations,
  parsePlatform,
  type RegistryLayerCache,
  RemoteBlobs,
  registryLayerCache,
  selectExecutorKind,
  writeOutputs,
  writeOutputText,
} from '@kiln/builder';
import { KilnError } from '@kiln/errors';
import { BlobStore, type Compression, createReference, parseReference, type Reference } from '@kiln/image';
import { createRegistryClient, type RegistryClient } from '@kiln/registry';
import type { SnapshotStrategyName } from '@kiln/snapshot';
import type { Output } from '../../output.ts';
import {
  parseRegistryCertificates,
  type RegistryFlags,
  registryClientOptions,
} from '../../registryOptions.ts';
import { createReporter, type LogFormat } from '../../reporter/createReporter.ts';
import { parseBuildArgs, parseLabels } from './buildArgs.ts';
import { resolveContext, resolveDockerfilePath } from './buildContext.ts';
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

/** The work dir's parent in container mode (inside the executor image's own, ignored, /kiln). */
const containerWorkParent = '/kiln/work';

// Kaniko's names for the snapshot strategies.
const snapshotModes: Record<string, SnapshotStrategyName> = {
  full: 'full',
  metadata: 'metadata',
  incremental: 'incremental',
  overlay: 'overlay',
  redo: 'metadata',
  time: 'metadata',
};

/** `kiln build`: flags → builder → outputs, with the work dir removed at the end and on signals. */
export async function runBuild(flags: BuildFlags, output: Output): Promise<void> {
  // Validate everything cheap before any work: a bad flag must not cost a base image pull.
  const buildArgs = parseBuildArgs(flags.buildArg);
  const labels = parseLabels(flags.label);
  parseRegistryCertificates(flags.registryCertificate);
  const destinations = flags.destination;
  parseDestinations(destinations);
  if (flags.push && destinations.length === 0) {
    throw new KilnError('NO_DESTINATION', 'no --destination given', {
      hint: 'add --destination registry/repo:tag, or --no-push to build without pushing',
      exitCode: 2,
    });
  }
  const platform = flags.customPlatform ? parsePlatform(flags.customPlatform) : undefined;
  const executorKind = selectExecutorKind({
    requested: flags.executor as 'auto' | 'container' | 'sandbox',
    force: Boolean(flags.force),
  });
  const cacheTtlMs = flags.cacheTtl === undefined ? defaultCacheTtlMs : parseCacheTtl(flags.cacheTtl);
  const cacheRepo = cacheRepository(flags.cacheRepo, destinations);
  const compressionLevel =
    flags.compressionLevel === undefined
      ? undefined
      : parseCount(flags.compressionLevel, '--compression-level');
  await checkOutputPaths({
    ...optional('tarPath', flags.tarPath),
    ...optional('ociLayoutPath', flags.ociLayoutPath),
    ...optional('digestFile', flags.digestFile),
    ...optional('imageNameWithDigestFile', flags.imageNameWithDigestFile),
    ...optional('imageNameTagWithDigestFile', flags.imageNameTagWithDigestFile),
    ...optional('trace', flags.trace),
  });

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

  // One fresh dir per build, also inside --kiln-dir, so concurrent builds never share state.
  // Container mode: RUN steps own `/` and often empty /tmp (`rm -rf /tmp/*`), so Kiln's state lives
  // under /kiln, which no step's files can replace and no snapshot sees (docs/design.md).
  const parent = flags.kilnDir
    ? resolve(flags.kilnDir)
    : executorKind === 'container'
      ? containerWorkParent
      : tmpdir();
  await mkdir(parent, { recursive: true });
  const workDir = await mkdtemp(join(parent, 'kiln-'));
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) =>
    controller.abort(
      new KilnError('INTERRUPTED', `interrupted by ${signal}`, { exitCode: signal === 'SIGINT' ? 130 : 143 }),
    );
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let executor: Executor | undefined;
  let client: RegistryClient | undefined;
  let registryCache: RegistryLayerCache | undefined;
  let failed = false;
  let traceFailure: unknown;
  try {
    const contextDir = await resolveContext(flags.context, workDir);
    const dockerfilePath =
      flags.dockerfile === '-' ? undefined : resolveDockerfilePath(flags.dockerfile, contextDir);
    const dockerfileText =
      dockerfilePath === undefined ? await readStdin() : await readDockerfile(dockerfilePath);
    // Container mode empties `/` before each stage: what the user handed over (the context, which
    // Agola restores into a plain /workspace) and where outputs go must survive it.
    executor = await createExecutor({
      kind: executorKind,
      workDir,
      keepPaths: userPaths(flags, contextDir, dockerfilePath),
    });
    const store = new BlobStore(flags.cacheDir ? resolve(flags.cacheDir) : join(workDir, 'blobs'));
    client = createRegistryClient({
      ...(await registryClientOptions(flags)),
      // A signal ends every pull, push and cache request at once; nothing is sent after it.
      signal: controller.signal,
      onEvent: (event) => {
        // Only the push side: base pulls are reported by the builder's base-pulled event.
        const pulling = 'direction' in event && event.direction === 'pull';
        if ('repository' in event && event.type !== 'blob-skipped' && !pulling) {
          onEvent({
            type: 'push-progress',
            destination: `${event.registry}/${event.repository}`,
            detail: { ...event, kind: event.type },
          });
        }
      },
    });
    if (flags.push && !flags.skipPushPermissionCheck)
      await checkPushAccess(client, parseDestinations(destinations));
    // Base layers and cache hits stay in the registry until a root needs their files.
    const remote = new RemoteBlobs(client, store);
    const cacheEnabled = flags.cache === true || flags.cache === 'true';
    let cache: LayerCache | undefined;
    if (cacheEnabled && cacheRepo) {
      registryCache = registryLayerCache({
        client,
        repository: cacheRepo,
        store,
        remote,
        ttlMs: cacheTtlMs,
        push: flags.pushCache !== false,
        onWarning: (message) => onEvent({ type: 'warning', message }),
      });
      cache = registryCache;
    } else if (cacheEnabled && flags.cacheDir) {
      cache = directoryLayerCache(join(resolve(flags.cacheDir), 'steps'), store);
    } else if (cacheEnabled) {
      onEvent({
        type: 'warning',
        message:
          '--cache without --destination, --cache-repo or --cache-dir: nowhere to cache; building without',
      });
    }
    const sourceDateEpoch = process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : undefined;
    const result = await buildImage(
      {
        contextDir,
        dockerfileText,
        dockerfileName: flags.dockerfile === '-' ? 'Dockerfile (stdin)' : (flags.dockerfile ?? 'Dockerfile'),
        ...(flags.target ? { target: flags.target } : {}),
        buildArgs,
        labels,
        ...(platform ? { platform } : {}),
        snapshotStrategy: snapshotModes[flags.snapshotMode] ?? 'incremental',
        singleSnapshot: Boolean(flags.singleSnapshot),
        reproducible: Boolean(flags.reproducible),
        ...(sourceDateEpoch !== undefined && Number.isFinite(sourceDateEpoch) ? { sourceDateEpoch } : {}),
        ignorePaths: flags.ignorePath,
        compression: flags.compression as Compression,
        ...(compressionLevel === undefined ? {} : { compressionLevel }),
      },
      {
        executor,
        images: lazyRegistryImageSource(client, store, remote),
        fetchBlobs: (layers) => remote.fetch(layers),
        store,
        workDir,
        onEvent,
        signal: controller.signal,
        ...(cache ? { cache } : {}),
        cacheLayers: { run: flagEnabled(flags.cacheRunLayers), copy: flagEnabled(flags.cacheCopyLayers) },
        // RUN --mount=type=cache dirs outlive the build only where the user keeps state.
        ...(flags.cacheDir ? { cacheMountDir: join(resolve(flags.cacheDir), 'run-mounts') } : {}),
      },
    );
    // A signal during the last step lets that step end normally: nothing of it may be pushed.
    controller.signal.throwIfAborted();
    // The cache repository then holds every layer this build wrote: the push mounts them from there
    // rather than uploading them a second time.
    await registryCache?.flush();
    // Blobs never downloaded: a push to their own registry mounts them; anything else needs the bytes.
    const layers = result.image.manifest.layers.map((descriptor) => ({ descriptor }));
    if (flags.tarPath || flags.ociLayoutPath) await remote.fetch(layers);
    else if (flags.push)
      await remote.fetchUnmountable(
        layers,
        parseDestinations(destinations).map((reference) => reference.registry),
      );
    const pushed = await writeOutputs(
      result.image,
      {
        destinations,
        noPush: !flags.push,
        ...optional('tarPath', flags.tarPath),
        ...optional('ociLayoutPath', flags.ociLayoutPath),
        ...optional('digestFile', flags.digestFile),
        ...optional('imageNameWithDigestFile', flags.imageNameWithDigestFile),
        ...optional('imageNameTagWithDigestFile', flags.imageNameTagWithDigestFile),
      },
      {
        store,
        client,
        onEvent,
        mountFrom: [
          ...(registryCache && cacheRepo ? [cacheRepo] : []),
          ...remote.repositories().map(({ registry, repository }) => createReference(registry, repository)),
        ],
        // A registry may refuse a mount (another project, a policy): then the bytes are fetched.
        fetchMissing: (blob) => remote.fetch([{ descriptor: blob }]),
        signal: controller.signal,
        scratchDir: workDir,
      },
    );
    controller.signal.throwIfAborted();
    reporter.finish({ digest: result.image.digest, destinations: pushed });
  } catch (error) {
    failed = true;
    reporter.fail(error);
    throw controller.signal.aborted && controller.signal.reason instanceof KilnError
      ? controller.signal.reason
      : error;
  } finally {
    // Cache writes of the steps that did run are kept even when the build failed later, but not
    // after a signal: an interrupted build pushes nothing more.
    if (!controller.signal.aborted) await registryCache?.flush();
    await client?.close().catch(() => undefined);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await executor?.dispose().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    // Last, after the cleanup: a trace that cannot be written never hides the build's own error.
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

/** `--cache-repo`, else `<first destination's repository>/cache` (Kaniko's default). */
function cacheRepository(flag: string | undefined, destinations: string[]): Reference | undefined {
  if (flag !== undefined) return parseReference(flag);
  const first = destinations[0];
  if (first === undefined) return undefined;
  const destination = parseReference(first);
  return createReference(destination.registry, `${destination.repository}/cache`);
}

/** Absolute paths of the context, the Dockerfile and every file or dir the flags name. */
function userPaths(flags: BuildFlags, contextDir: string, dockerfilePath: string | undefined): string[] {
  const named = [
    flags.tarPath,
    flags.ociLayoutPath,
    flags.digestFile,
    flags.imageNameWithDigestFile,
    flags.imageNameTagWithDigestFile,
    flags.cacheDir,
    flags.trace,
  ];
  return [contextDir, dockerfilePath, ...named]
    .filter((path): path is string => path !== undefined && path !== '')
    .map((path) => resolve(path));
}

/** `--flag`, `--flag=true` or absent: on; `--flag=false`: off. */
function flagEnabled(value: boolean | string | undefined): boolean {
  return value === undefined || value === true || !/^(false|0|f|no)$/i.test(String(value));
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text))
    throw new KilnError('INVALID_FLAG', `${flag} "${text}" is not a whole number`, { exitCode: 2 });
  return Number(text);
}

async function readDockerfile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new KilnError('DOCKERFILE_NOT_FOUND', `cannot read Dockerfile ${path}`, {
      hint: 'pass --dockerfile (relative paths are tried against the working directory, then the context)',
    });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
