import { join } from 'node:path';
import type { CopyInstruction, Instruction } from '@kiln/dockerfile';
import { copyInstruction } from '../copy/copyInstruction.ts';
import { excludeMatcher } from '../instructions/copy.ts';
import { prepareStep } from '../instructions/prepareStep.ts';
import type { StepScope } from '../instructions/step.ts';
import type { LayerCache } from '../layerCache.ts';
import type { PlannedStage } from '../plan/planStages.ts';
import type { BuildContext } from '../stage/buildContext.ts';
import type { MetadataContext } from '../stage/metadataInstructions.ts';
import type { StageState } from '../stage/stageState.ts';

/** A COPY from the context hashed ahead: valid for the step whose parent key is `parentKey`. */
export interface KnownSources {
  parentKey: string;
  contentHash: string;
  createdBy: string;
}

export interface StageLookahead {
  /** By 0-based position in the stage's instructions. */
  sources: Map<number, KnownSources>;
}

/**
 * Computes the cache keys of a stage's steps before any of them runs and starts their lookups
 * (`LayerCache.prefetch`), so a fully cached stage waits for one round trip, not one per step.
 *
 * A key depends only on the parent key, the instruction as expanded, the config and args (which
 * the instructions themselves set) and, for COPY from the context, the sources' hash: none of it
 * depends on whether an earlier step hit or ran, so the keys computed here on a copy of the
 * stage's state are the ones the steps will have. They are only ever hints: a step asks the cache
 * for its own key and takes a prefetched answer only for that very key. The look-ahead stops at
 * the first instruction whose key needs more than that (ADD, which may download or resolve a git
 * commit; COPY --chown, which reads the stage's /etc/passwd; COPY --from an image, which is a
 * pull) or that fails; the step itself reports the failure.
 */
export async function lookAhead(
  context: BuildContext,
  stage: PlannedStage,
  state: StageState,
  instructions: Instruction[],
  metadata: MetadataContext,
  cache: LayerCache,
  keyFor: (state: StageState, text: string, sourcesHash?: string) => string,
): Promise<StageLookahead> {
  const sources = new Map<number, KnownSources>();
  const prefetch = cache.prefetch?.bind(cache);
  if (!prefetch) return { sources };
  // Config, args and the key chain are what the steps change; the root is never touched here.
  const shadow: StageState = {
    ...state,
    config: structuredClone(state.config),
    args: new Map(state.args),
    history: [],
    layers: [...state.layers],
  };
  const shadowMetadata: MetadataContext = { ...metadata };
  for (const [position, instruction] of instructions.entries()) {
    if (!predictable(stage, instruction)) break;
    const scope: StepScope = {
      build: context,
      stage,
      state: shadow,
      step: position + 1,
      where: '',
      metadata: shadowMetadata,
      cache,
      keyFor: (text, sourcesHash) => keyFor(shadow, text, sourcesHash),
    };
    try {
      const step = await prepareStep(instruction, scope);
      let key = step.cacheKey;
      if (key === undefined && instruction.kind === 'COPY') {
        const known = await hashContextSources(context, shadow, instruction, position);
        sources.set(position, known);
        key = scope.keyFor(`COPY ${known.createdBy}`, known.contentHash);
      }
      if (key === undefined) break;
      if (step.cache !== 'never') prefetch(key);
      shadow.cacheKey = key;
    } catch {
      break;
    }
  }
  return { sources };
}

/** Whether the instruction's key is computable from the config and the context alone. */
function predictable(stage: PlannedStage, instruction: Instruction): boolean {
  if (instruction.kind === 'ADD') return false;
  if (instruction.kind !== 'COPY') return true;
  if (instruction.options.chown !== undefined) return false;
  const from = instruction.options.from;
  return from === undefined || stage.sources.get(from)?.kind === 'stage';
}

/** The sources' hash and history text of a COPY from the context, as the COPY computes them. */
async function hashContextSources(
  context: BuildContext,
  shadow: StageState,
  instruction: CopyInstruction,
  position: number,
): Promise<KnownSources> {
  const parentKey = shadow.cacheKey;
  let known: KnownSources | undefined;
  await copyInstruction({
    state: shadow,
    instruction,
    source: { root: context.input.contextDir, kind: 'context', isIgnored: context.isIgnored },
    escape: context.dockerfile.escape,
    where: '',
    scratchDir: join(context.env.workDir, 'scratch', `lookahead-${shadow.index}-${position + 1}`),
    signal: context.signal,
    ...(instruction.options.exclude.length > 0
      ? { isExcluded: excludeMatcher(instruction.options.exclude) }
      : {}),
    // Hashed, never copied.
    beforeCopy: async (contentHash, createdBy) => {
      known = { parentKey, contentHash, createdBy };
      return true;
    },
  });
  if (!known) throw new Error('COPY sources not hashed');
  return known;
}
