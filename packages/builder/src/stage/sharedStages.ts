import { createHash } from 'node:crypto';
import { formatPlatform } from '@kiln/image';
import { LazyRoots } from '../cache/lazyRoots.ts';
import type { PlannedStage } from '../plan/planStages.ts';
import type { BuildContext } from './buildContext.ts';
import { buildStage } from './buildStage.ts';
import type { StageState } from './stageState.ts';

interface SharedStage {
  state: StageState;
  platform: string;
}

/**
 * What the platforms of one multi-platform build share: stages whose inputs are the same for
 * each platform are built once (docs/design.md, "Multi-platform builds"), and the lazy roots,
 * so a reused stage's pending layers are extracted once whichever platform reads them first.
 */
export class SharedStages {
  readonly lazy = new LazyRoots();
  readonly #byKey = new Map<string, SharedStage>();
  readonly #keys = new WeakMap<StageState, string>();

  /** The stage built for an earlier platform with the same key, or the one built now. */
  async build(context: BuildContext, stage: PlannedStage): Promise<StageState> {
    const key = await stageInputKey(context, stage, (state) => this.#keys.get(state));
    const platform = formatPlatform(context.platform);
    const shared = this.#byKey.get(key);
    if (shared) {
      context.emit({ type: 'stage-reused', stage: stage.name, platform, from: shared.platform });
      return shared.state;
    }
    const state = await buildStage(context, stage);
    // A root reused for this platform's stage no longer holds an earlier platform's tree.
    if (context.env.executor.concurrentStages)
      for (const [other, entry] of this.#byKey)
        if (entry.state.root === state.root) this.#byKey.delete(other);
    this.#byKey.set(key, { state, platform });
    this.#keys.set(state, key);
    return state;
  }
}

/**
 * Everything a stage's result depends on that can differ between the platforms of one build:
 * its base (the platform's manifest digest, or the base stage's key), the platform it runs for,
 * the values of the ARGs it declares (TARGETARCH among them), the keys of the stages it copies
 * from, and the target platform itself when it reads an image by name (`COPY --from=image`) or
 * its base has ONBUILD triggers. The Dockerfile, context and build args are the same for every
 * platform, so they need no place in the key.
 */
async function stageInputKey(
  context: BuildContext,
  stage: PlannedStage,
  keyOf: (state: StageState) => string | undefined,
): Promise<string> {
  const platform = stage.platform ?? context.platform;
  const built = (index: number) => {
    const state = context.built.get(index);
    return state ? (keyOf(state) ?? `unkeyed:${index}:${formatPlatform(context.platform)}`) : 'missing';
  };
  let base: string;
  let readsTarget = [...stage.sources.values()].some((source) => source.kind === 'image');
  if (stage.baseStage !== undefined) {
    base = `stage:${built(stage.baseStage)}`;
    readsTarget ||= (context.built.get(stage.baseStage)?.config.config.OnBuild ?? []).length > 0;
  } else if (stage.base.toLowerCase() === 'scratch') {
    base = 'scratch';
  } else {
    const image = await context.env.images.pull(stage.base, platform);
    base = `image:${image.digest}`;
    readsTarget ||= (image.config.config?.OnBuild ?? []).length > 0;
  }
  const { args } = context;
  const declared = stage.instructions.flatMap((instruction) =>
    instruction.kind === 'ARG' ? instruction.args.map((arg) => arg.name) : [],
  );
  const argValues = declared.map((name) => [
    name,
    args.buildArgs.get(name) ?? null,
    args.globalArgs.get(name) ?? null,
    args.automaticArgs.get(name) ?? null,
  ]);
  return createHash('sha256')
    .update(
      JSON.stringify([
        stage.index,
        stage.base,
        base,
        formatPlatform(platform),
        argValues,
        stage.dependencies.map(built),
        readsTarget ? formatPlatform(context.platform) : null,
      ]),
    )
    .digest('hex');
}
