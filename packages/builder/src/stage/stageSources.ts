import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { formatPlatform, type Platform } from '@kiln/image';
import type { LayerEvent } from '@kiln/layer';
import { extractImageLayers } from '../base/extractImageLayers.ts';
import type { PulledImage } from '../base/imageSource.ts';
import type { CopySource } from '../copy/copyInstruction.ts';
import { type FromSource, type PlannedStage, resolveFromWord } from '../plan/planStages.ts';
import type { BuildContext } from './buildContext.ts';
import type { LayerRecorder } from './layerRecorder.ts';
import { type NamedPath, namedPathSelector, SelectionIncomplete } from './namedPathSelector.ts';
import type { StageLayer, StageState } from './stageState.ts';

/** Extracts the stage's pending layers (fetching their blobs first) before something reads the root. */
export async function materialiseRoot(
  context: BuildContext,
  state: StageState,
  recorder?: LayerRecorder,
): Promise<void> {
  const extracted = await context.lazy.materialise(state, async (layers) => {
    const retries = context.input.imageFsExtractRetries ?? 0;
    for (let attempt = 0; ; attempt++) {
      try {
        await context.env.fetchBlobs?.(layers);
        await extractImageLayers(layers, state.root, context.env.store, context.ignore, {
          signal: context.signal,
          onEvent: layerEvents(context, state.name),
        });
        return;
      } catch (error) {
        if (attempt >= retries || context.signal.aborted) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        context.emit({
          type: 'warning',
          message: `extracting ${state.name}'s base failed, again in 1 s: ${reason}`,
        });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  });
  if (extracted) recorder?.invalidate();
}

/** The plan's answer for a `--from` word, with the stage it names built by now. */
function planned(
  context: BuildContext,
  stage: PlannedStage,
  from: string,
  where: string,
): FromSource & { built?: StageState } {
  // ONBUILD triggers come with the base image, after planning: they are resolved here.
  const source = stage.sources.get(from) ?? resolveFromWord(context.plan, from, context.dockerfile.escape);
  if (source.kind === 'image') return source;
  const built = context.built.get(source.index);
  if (!built)
    throw new KilnError(
      'UNKNOWN_STAGE',
      `${where}: stage "${source.word}" has not been built before this one`,
    );
  return { ...source, built };
}

/** What a `--from` reads, for cache keys: the stage's last cache key, or the image's manifest digest. */
export async function fromIdentity(
  context: BuildContext,
  stage: PlannedStage,
  from: string,
  where: string,
): Promise<string> {
  const source = planned(context, stage, from, where);
  if (source.built) return `stage:${source.built.cacheKey}`;
  return `image:${(await pullBase(context, source.word, where, stage.name)).digest}`;
}

/**
 * The tree a `--from` names (COPY --from, RUN --mount from=): an earlier stage's, or an image's.
 * `paths` (relative, no wildcard) limits a tree rebuilt from layers to what a COPY reads.
 */
export async function sourceFrom(
  context: BuildContext,
  stage: PlannedStage,
  from: string,
  where: string,
  paths?: NamedPath[],
): Promise<CopySource> {
  const source = planned(context, stage, from, where);
  const { word, built } = source;
  if (source.kind === 'stage' && built) {
    if (context.env.executor.concurrentStages) {
      await materialiseRoot(context, built);
      return { root: built.root, kind: 'stage', from: word };
    }
    // One root only (container mode): rebuild the stage's tree from its layers.
    const dir = join(context.env.workDir, 'stages', String(source.index));
    await extractInto(context, dir, built.layers, stage.name, paths);
    return { root: dir, kind: 'stage', from: word };
  }
  const image = await pullBase(context, word, where, stage.name);
  const dir = join(context.env.workDir, 'images', image.digest.replace(':', '-'));
  await extractInto(context, dir, layersOf(image), stage.name, paths);
  return { root: dir, kind: 'image', from: word };
}

async function extractInto(
  context: BuildContext,
  dir: string,
  layers: StageLayer[],
  stage: string,
  paths: NamedPath[] | undefined,
): Promise<void> {
  await context.env.fetchBlobs?.(layers);
  const extract = async (select?: ReturnType<typeof namedPathSelector>) => {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await extractImageLayers(layers, dir, context.env.store, [], {
      signal: context.signal,
      onEvent: layerEvents(context, stage),
      ...(select ? { select } : {}),
    });
  };
  if (paths === undefined) return extract();
  try {
    await extract(namedPathSelector(paths));
  } catch (error) {
    if (!(error instanceof SelectionIncomplete)) throw error;
    await extract();
  }
}

/** The extractor's events, forwarded as the stage's. */
function layerEvents(context: BuildContext, stage: string): (event: LayerEvent) => void {
  return (event) => context.emit({ type: 'layer', stage, event });
}

export async function pullBase(
  context: BuildContext,
  reference: string,
  where: string,
  stage: string,
  platform: Platform = context.platform,
): Promise<PulledImage> {
  const started = performance.now();
  try {
    const image = await resolveBase(context, reference, platform);
    context.emit({
      type: 'base-pulled',
      stage,
      reference: image.reference,
      digest: image.digest,
      layers: image.manifest.layers.length,
      ms: performance.now() - started,
    });
    return image;
  } catch (error) {
    if (error instanceof KilnError) {
      throw new KilnError(error.code, `${where}: cannot pull base image "${reference}": ${error.message}`, {
        cause: error,
        exitCode: error.exitCode,
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
    throw error;
  }
}

/**
 * The base image `reference` for `platform`, asked of the image source once per build: stages (and
 * `--from` images) naming the same base share one manifest and config, as BuildKit resolves each
 * reference once. A failure is kept too: whoever reaches the base first reports it (retries included,
 * the source's own), and it is not paid twice.
 */
function resolveBase(
  context: Pick<BuildContext, 'env' | 'bases'>,
  reference: string,
  platform: Platform,
): Promise<PulledImage> {
  const key = `${reference}\0${formatPlatform(platform)}`;
  let pulling = context.bases.get(key);
  if (pulling === undefined) {
    pulling = context.env.images.pull(reference, platform);
    pulling.catch(() => {});
    context.bases.set(key, pulling);
  }
  return pulling;
}

/**
 * Starts resolving every image base the build's stages name (FROM, not FROM another stage or scratch)
 * as soon as the Dockerfile is planned, so the manifest and config come while the context's ignore
 * file is read, the push-access check runs and the first stage's root is prepared, and a later stage's
 * while earlier ones build. Nothing is reported here: each stage reports its base when it reaches it,
 * in the same order as before, and a failure surfaces there (or never, if the build stops first).
 */
export function startBasePulls(context: Pick<BuildContext, 'env' | 'bases' | 'plan' | 'platform'>): void {
  const { env } = context;
  for (const index of context.plan.order) {
    const stage = context.plan.stages[index]!;
    if (stage.baseStage !== undefined || stage.base.toLowerCase() === 'scratch') continue;
    const pulling = resolveBase(context, stage.base, stage.platform ?? context.platform);
    // Without a layer cache a stage that writes to its root extracts its base whatever happens: its
    // layer blobs are fetched as soon as the manifest is known, not when the first such step starts.
    // A failed fetch is not kept (RemoteBlobs): the extraction fetches again and reports its own error.
    if (env.cache === undefined && env.fetchBlobs && stage.instructions.some(writesRoot)) {
      const fetchBlobs = env.fetchBlobs;
      pulling.then((image) => fetchBlobs(layersOf(image))).catch(() => {});
    }
  }
}

/** Steps that always extract the base into the stage root when nothing is cached. */
function writesRoot(instruction: { kind: string }): boolean {
  return ['RUN', 'COPY', 'ADD', 'WORKDIR'].includes(instruction.kind);
}

export function layersOf(image: PulledImage): StageLayer[] {
  const diffIds = image.config.rootfs.diff_ids;
  return image.manifest.layers.map((descriptor, index) => ({ descriptor, diffId: diffIds[index]! }));
}
