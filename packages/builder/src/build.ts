import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KilnError } from '@kiln/errors';
import { BlobStore, createReference, formatPlatform, type Platform, parseReference } from '@kiln/image';
import { createRegistryClient, type RegistryClient } from '@kiln/registry';
import { type BuiltStages, buildImage } from './buildImage.ts';
import type { BuildRequest, BuildResult } from './buildRequest.ts';
import { lazyRegistryImageSource } from './cache/lazyRegistryImageSource.ts';
import { type OpenedLayerCache, openLayerCache } from './cache/openLayerCache.ts';
import { RemoteBlobs } from './cache/remoteBlobs.ts';
import { resolveBuildSources } from './context/resolveBuildSources.ts';
import type { BuildEvent, BuildEventListener } from './events.ts';
import { afterCheck } from './executor/afterCheck.ts';
import { parseEntitlements } from './executor/entitlements.ts';
import type { Executor } from './executor/executor.ts';
import { createExecutor, selectExecutorKind } from './executor/selectExecutor.ts';
import { assembleIndex } from './image/assembleIndex.ts';
import { checkOutputPaths } from './output/checkOutputPaths.ts';
import { checkPushAccess } from './output/checkPushAccess.ts';
import { type EarlyPush, startEarlyPush } from './output/earlyPush.ts';
import { parseDestinations, writeOutputs } from './output/writeOutputs.ts';
import { checkPlatforms } from './plan/checkPlatforms.ts';
import { BuildSecrets } from './secrets/buildSecrets.ts';
import { SharedStages } from './stage/sharedStages.ts';

export interface BuildOptions {
  onEvent?: BuildEventListener;
  /** Aborting stops the running step; the build then fails with the signal's reason. */
  signal?: AbortSignal;
}

/** The work dir's parent in container mode (inside the executor image's own, ignored, /kiln). */
const containerWorkParent = '/kiln/work';

/**
 * A whole build: a fresh work dir and executor, base images and cache hits fetched only when
 * their files are needed, the stages built, the layer cache flushed, then the outputs written
 * (push, tar, layout, digest files). The work dir and executor are gone when it returns.
 */
export async function build(request: BuildRequest, options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const emit = (event: BuildEvent) => options.onEvent?.(event);
  // Everything cheap is checked before any work: a bad flag must not cost a base image pull.
  if (request.cache.repository !== undefined) parseReference(request.cache.repository);
  const destinations = parseDestinations(request.outputs.destinations);
  if (request.outputs.push && destinations.length === 0) {
    throw new KilnError('NO_DESTINATION', 'no --destination given', {
      hint: 'add --destination registry/repo:tag, or --no-push to build without pushing',
      exitCode: 2,
    });
  }
  const executorKind = selectExecutorKind({ requested: request.executor, force: request.force });
  const { outputs: wanted } = request;
  await checkOutputPaths({
    ...(wanted.tarPath ? { tarPath: wanted.tarPath } : {}),
    ...(wanted.ociLayoutPath ? { ociLayoutPath: wanted.ociLayoutPath } : {}),
    ...(wanted.digestFile ? { digestFile: wanted.digestFile } : {}),
    ...(wanted.imageNameWithDigestFile ? { imageNameWithDigestFile: wanted.imageNameWithDigestFile } : {}),
    ...(wanted.imageNameTagWithDigestFile
      ? { imageNameTagWithDigestFile: wanted.imageNameTagWithDigestFile }
      : {}),
  });
  parseEntitlements(request.allow ?? []);

  // One fresh dir per build, also inside --kiln-dir, so concurrent builds never share state.
  // Container mode: RUN steps own `/` and often empty /tmp, so Kiln's state lives under /kiln,
  // which no step's files can replace and no snapshot sees (docs/design.md).
  const parent = request.kilnDir
    ? resolve(request.kilnDir)
    : executorKind === 'container'
      ? containerWorkParent
      : tmpdir();
  await mkdir(parent, { recursive: true });
  const workDir = await mkdtemp(join(parent, 'kiln-'));
  let executor: Executor | undefined;
  let client: RegistryClient | undefined;
  let layerCache: OpenedLayerCache | undefined;
  let early: EarlyPush | undefined;
  try {
    const { contextDir, dockerfilePath, dockerfileText } = await resolveBuildSources(
      request,
      workDir,
      options.signal,
    );
    // Container mode empties `/` before each stage: what the user handed over and where outputs
    // go must survive it.
    executor = await createExecutor({
      kind: executorKind,
      workDir,
      keepPaths: userPaths(request, contextDir, dockerfilePath),
      ...(request.network ? { network: request.network } : {}),
      ...(request.ignoreVarRun === false ? { ignoreVarRun: false } : {}),
    });
    const store = new BlobStore(request.cache.dir ? resolve(request.cache.dir) : join(workDir, 'blobs'));
    client = createRegistryClient({
      ...request.registry,
      // A signal ends every pull, push and cache request at once; nothing is sent after it.
      ...(options.signal ? { signal: options.signal } : {}),
      // Every registry event, pulls and retries included: the reporter decides what to show.
      onEvent: (event) => emit({ type: 'registry', event }),
    });
    // The push-access check runs while the Dockerfile is planned and the bases resolved; no stage
    // starts and nothing is written out before it passed.
    const access =
      request.outputs.push && request.outputs.checkPushAccess
        ? checkPushAccess(client, destinations)
        : undefined;
    access?.catch(() => {});
    // Base layers and cache hits stay in the registry until a root needs their files.
    const remote = new RemoteBlobs(client, store);
    layerCache = openLayerCache(request.cache, {
      client,
      store,
      remote,
      destinations,
      onWarning: (message) => emit({ type: 'warning', message }),
    });
    const { cache } = layerCache;
    // One image per platform, in the order given; stages whose inputs match are built once.
    const platforms = request.platforms ?? [];
    const shared = platforms.length > 1 ? new SharedStages() : undefined;
    const dockerfileName =
      request.dockerfileText === undefined ? (request.dockerfile ?? 'Dockerfile') : 'Dockerfile (stdin)';
    if (shared)
      await checkPlatforms({ ...request, dockerfileText, dockerfileName }, executor.kind, platforms);
    // The target stage's layers go up while later steps run. Not with a cache repository: the
    // layers go there first and the push mounts them from it.
    if (request.outputs.push && !layerCache.repository) early = startEarlyPush(client, store, destinations);
    const listener = early
      ? (event: BuildEvent) => {
          early?.onEvent(event);
          options.onEvent?.(event);
        }
      : options.onEvent;
    const onEvent = listener && shared ? onceEach(listener) : listener;
    const builds: { platform: Platform | undefined; built: BuiltStages }[] = [];
    for (const [position, platform] of (platforms.length > 0 ? platforms : [undefined]).entries()) {
      if (shared && platform)
        emit({
          type: 'platform-started',
          platform: formatPlatform(platform),
          position: position + 1,
          platforms: platforms.length,
        });
      const built = await buildImage(
        // The request's build settings are BuildInput's, with the context and Dockerfile read.
        {
          ...request,
          ...(platform ? { platform } : {}),
          contextDir,
          dockerfileText,
          ...(dockerfilePath === undefined ? {} : { dockerfilePath }),
          dockerfileName,
        },
        {
          executor: access ? afterCheck(executor, access) : executor,
          images: lazyRegistryImageSource(client, store, remote),
          fetchBlobs: (layers) => remote.fetch(layers),
          store,
          workDir,
          ...(onEvent ? { onEvent } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(cache ? { cache } : {}),
          cacheLayers: { run: request.cache.runLayers, copy: request.cache.copyLayers },
          // RUN --mount=type=cache dirs outlive the build only where the user keeps state.
          ...(request.cache.dir ? { cacheMountDir: join(resolve(request.cache.dir), 'run-mounts') } : {}),
          secrets: new BuildSecrets(request.secrets, request.ssh),
          ...(shared ? { shared } : {}),
        },
      );
      builds.push({ platform, built });
    }
    const built = builds[0]!.built;
    const image = shared
      ? await assembleIndex(
          builds.map(({ platform, built }) => ({ platform: platform!, image: built.image })),
          store,
        )
      : built.image;
    await access;
    options.signal?.throwIfAborted();
    // The cache repository then holds every layer this build wrote: the push mounts them from
    // there rather than uploading them a second time.
    await layerCache.flush();
    // Blobs never downloaded: a push to their own registry mounts them; anything else needs the bytes.
    const layers = builds.flatMap(({ built }) =>
      built.image.manifest.layers.map((descriptor) => ({ descriptor })),
    );
    const { outputs } = request;
    if (outputs.tarPath || outputs.ociLayoutPath) await remote.fetch(layers);
    else if (outputs.push)
      await remote.fetchUnmountable(
        layers,
        destinations.map((reference) => reference.registry),
      );
    const pushed = await writeOutputs(
      image,
      { ...outputs, noPush: !outputs.push },
      {
        store,
        client,
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        mountFrom: [
          ...(layerCache.repository ? [layerCache.repository] : []),
          ...remote.repositories().map(({ registry, repository }) => createReference(registry, repository)),
        ],
        // A registry may refuse a mount (another project, a policy): then the bytes are fetched.
        fetchMissing: (blob) => remote.fetch([{ descriptor: blob }]),
        sourceOf: (digest) => remote.sourceOf(digest),
        ...(options.signal ? { signal: options.signal } : {}),
        scratchDir: workDir,
      },
    );
    options.signal?.throwIfAborted();
    const perPlatform = builds.map(({ platform, built }) => ({
      platform: platform ? formatPlatform(platform) : '',
      digest: built.image.digest,
    }));
    emit({
      type: 'image-done',
      digest: image.digest,
      configDigest: built.image.configDigest,
      size: image.size,
      destinations: pushed,
      ms: performance.now() - started,
      ...(shared ? { platforms: perPlatform } : {}),
    });
    return {
      digest: image.digest,
      ...(shared ? { platforms: perPlatform } : {}),
      target: built.target,
      destinations: pushed,
      unusedBuildArgs: built.unusedBuildArgs,
    };
  } catch (error) {
    // Interrupted: the signal's reason (exit 130/143), not whatever the aborted step threw.
    throw options.signal?.aborted && options.signal.reason instanceof KilnError
      ? options.signal.reason
      : error;
  } finally {
    // Cache writes of the steps that did run are kept even when the build failed later, but not
    // after a signal: an interrupted build pushes nothing more.
    if (!options.signal?.aborted) await layerCache?.flush();
    // A failed build still waits for the uploads in flight (the client's close would too).
    await early?.settle();
    await client?.close().catch(() => undefined);
    await executor?.dispose().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Absolute paths of the context, the Dockerfile and every file or dir the request names. */
function userPaths(request: BuildRequest, contextDir: string, dockerfilePath: string | undefined): string[] {
  const { outputs } = request;
  const named = [
    outputs.tarPath,
    outputs.ociLayoutPath,
    outputs.digestFile,
    outputs.imageNameWithDigestFile,
    outputs.imageNameTagWithDigestFile,
    request.cache.dir,
    ...(request.keepPaths ?? []),
  ];
  return [contextDir, dockerfilePath, ...named]
    .filter((path): path is string => path !== undefined && path !== '')
    .map((path) => resolve(path));
}

/** Each platform's build warns alike (an unused build arg): a warning is passed on once. */
function onceEach(listener: BuildEventListener): BuildEventListener {
  const warned = new Set<string>();
  return (event) => {
    if (event.type === 'warning') {
      if (warned.has(event.message)) return;
      warned.add(event.message);
    }
    listener(event);
  };
}
