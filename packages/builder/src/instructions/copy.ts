import { join } from 'node:path';
import type { AddInstruction, CopyInstruction } from '@kiln/dockerfile';
import { createIgnoreMatcher } from '@kiln/dockerfile';
import { type CopySource, copyInstruction } from '../copy/copyInstruction.ts';
import { literalSourcePaths } from '../stage/namedPathSelector.ts';
import { fromIdentity, sourceFrom } from '../stage/stageSources.ts';
import type { Step, StepScope } from './step.ts';

/**
 * COPY and ADD. From the context the key includes the sources' hash, known only once they are
 * read; COPY --from keys on what it reads (the stage's cache key, the image's digest) instead, so
 * a hit needs neither that stage's tree nor the image's layers.
 */
export async function copyStep(
  instruction: CopyInstruction | AddInstruction,
  scope: StepScope,
): Promise<Step> {
  const { build, state, stage } = scope;
  const from = instruction.kind === 'COPY' ? instruction.options.from : undefined;
  const cached = build.env.cacheLayers?.copy !== false;
  const text = `${instruction.kind} ${instruction.raw}`;
  const fromKey =
    from !== undefined && cached && scope.cache
      ? scope.keyFor(text, await fromIdentity(build, stage, from, scope.where))
      : undefined;
  return {
    // History text comes from the work (the sources resolved), or from the cache entry of a hit.
    ...(fromKey === undefined ? {} : { cacheKey: fromKey }),
    changes: 'paths',
    cache: cached ? 'always' : 'never',
    needsTree: false,
    async execute(run) {
      // Hashed by the look-ahead for this very parent key: the sources are not read again for it.
      const known =
        fromKey === undefined && scope.knownSources?.parentKey === state.cacheKey
          ? scope.knownSources
          : undefined;
      const source: CopySource =
        from === undefined
          ? { root: build.input.contextDir, kind: 'context', isIgnored: build.isIgnored }
          : await sourceFrom(
              build,
              stage,
              from,
              scope.where,
              // Only what the COPY reads, when a tree is rebuilt from layers for it.
              literalSourcePaths(
                instruction.sources,
                build.dockerfile.escape,
                instruction.options.parents === true,
              ),
            );
      // --chown names a user of the stage's /etc/passwd: the tree must be there to resolve it.
      if (instruction.options.chown !== undefined) await run.materialise();
      let hit: Awaited<ReturnType<typeof run.lookup>>;
      const result = await copyInstruction({
        state,
        instruction,
        source,
        escape: build.dockerfile.escape,
        where: scope.where,
        scratchDir: join(build.env.workDir, 'scratch', `${stage.index}-${scope.step}`),
        signal: build.signal,
        ...(instruction.options.exclude.length > 0
          ? { isExcluded: excludeMatcher(instruction.options.exclude) }
          : {}),
        onLayerEvent: (event) => build.emit({ type: 'layer', stage: stage.name, event }),
        ...(known ? { known: { contentHash: known.contentHash, createdBy: known.createdBy } } : {}),
        beforeCopy: async (contentHash, createdBy) => {
          if (fromKey === undefined) {
            hit = await run.lookup(scope.keyFor(`${instruction.kind} ${createdBy}`, contentHash));
            if (hit) return true;
          }
          // A miss writes into the tree: it must be complete first.
          await run.materialise();
          return false;
        },
      });
      return {
        touched: result.touched,
        createdBy: result.createdBy,
        cacheKey: fromKey ?? scope.keyFor(`${instruction.kind} ${result.createdBy}`, result.contentHash),
        ...(result.skipped && hit ? { hit } : {}),
      };
    },
  };
}

export function excludeMatcher(patterns: string[]): (path: string) => boolean {
  const matcher = createIgnoreMatcher(patterns);
  return (path) => matcher.ignores(path);
}
