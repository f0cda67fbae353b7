import type { Dockerfile, FromInstruction, Instruction } from '@kiln/dockerfile';
import { expandWord } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import { type Platform, parsePlatform } from '@kiln/image';
import { describeLocation } from '../stage/location.ts';

/** What a `--from` word names: an earlier stage, or an image reference. */
export type FromSource = { kind: 'stage'; word: string; index: number } | { kind: 'image'; word: string };

export interface PlannedStage {
  index: number;
  /** `AS name` (lower-cased) or the index as text. */
  name: string;
  from: FromInstruction;
  /** FROM's image word expanded with the global args. */
  base: string;
  /** Set when FROM names an earlier stage. */
  baseStage?: number;
  /** `FROM --platform=…` resolved (e.g. $BUILDPLATFORM for a cross-compiling stage); else the target's. */
  platform?: Platform;
  /** Whether the stage's history and config end up in the image (the target and its FROM chain). */
  inImage: boolean;
  /** Each `--from` word of COPY and RUN --mount as written → what it names. */
  sources: Map<string, FromSource>;
  instructions: Instruction[];
  /** Earlier stages this one needs (FROM, COPY --from, RUN --mount from). */
  dependencies: number[];
}

export interface BuildPlan {
  /** ARGs declared before the first FROM, with their values after --build-arg. */
  globalArgs: Map<string, string | undefined>;
  /** The one lookup of FROM lines and `--from` words: global ARGs, then the automatic args. */
  globalLookup: (name: string) => string | undefined;
  stages: PlannedStage[];
  /** The stages the target needs, dependencies first, target last. */
  order: number[];
  target: number;
}

export interface PlanOptions {
  target?: string;
  buildArgs: Map<string, string>;
  /** BuildKit's automatic args (TARGETPLATFORM …), usable in FROM lines. */
  automaticArgs: Map<string, string>;
}

/** Splits the Dockerfile into stages, resolves FROM words and picks the stages the target needs. */
export function planStages(dockerfile: Dockerfile, options: PlanOptions): BuildPlan {
  const globalArgs = new Map<string, string | undefined>();
  const stages: PlannedStage[] = [];
  let current: PlannedStage | undefined;
  const fromLookup = (name: string) =>
    globalArgs.has(name) ? globalArgs.get(name) : options.automaticArgs.get(name);
  const expand = (word: string) => expandWord(word, fromLookup, { escape: dockerfile.escape });

  for (const instruction of dockerfile.instructions) {
    if (instruction.kind === 'FROM') {
      const base = expand(instruction.image);
      const index = stages.length;
      current = {
        index,
        name: instruction.stageName ?? String(index),
        from: instruction,
        base,
        instructions: [],
        dependencies: [],
        inImage: false,
        sources: new Map(),
      };
      if (instruction.platform !== undefined) {
        const where = describeLocation(dockerfile, instruction);
        current.platform = parsePlatform(expand(instruction.platform), `${where}: FROM --platform`);
      }
      const baseStage = findStage(stages, base.toLowerCase());
      if (baseStage !== undefined) {
        current.baseStage = baseStage;
        current.dependencies.push(baseStage);
      }
      if (stages.some((stage) => stage.from.stageName !== undefined && stage.name === current?.name)) {
        throw new KilnError(
          'DUPLICATE_STAGE',
          `stage name "${current.name}" is used twice (${describeLocation(dockerfile, instruction)})`,
        );
      }
      stages.push(current);
      continue;
    }
    if (!current) {
      if (instruction.kind !== 'ARG') {
        throw new KilnError(
          'NO_FROM',
          `${instruction.kind} before the first FROM (${describeLocation(dockerfile, instruction)}): only ARG may come first`,
        );
      }
      for (const arg of instruction.args) {
        // Declared without a value, an automatic arg (TARGETARCH…) keeps its value, as in BuildKit.
        const value =
          options.buildArgs.get(arg.name) ??
          (arg.defaultValue === undefined ? options.automaticArgs.get(arg.name) : expand(arg.defaultValue));
        globalArgs.set(arg.name, value);
      }
      continue;
    }
    current.instructions.push(instruction);
    for (const from of referencedStages(instruction)) {
      const expanded = expand(from);
      const word = expanded.toLowerCase();
      const dependency = findStage(stages, word);
      if (dependency !== undefined) {
        if (!current.dependencies.includes(dependency)) current.dependencies.push(dependency);
        current.sources.set(from, { kind: 'stage', word: expanded, index: dependency });
      } else if (looksLikeStageName(word)) {
        throw new KilnError(
          'UNKNOWN_STAGE',
          `--from=${from} at ${describeLocation(dockerfile, instruction)} names no earlier stage`,
          {
            hint: `stages so far: ${
              stages.map((stage) => stage.name).join(', ') || '(none)'
            }; an image needs a full reference such as ${word}:latest`,
          },
        );
      } else current.sources.set(from, { kind: 'image', word: expanded });
    }
  }
  if (stages.length === 0) {
    throw new KilnError('NO_FROM', 'the Dockerfile has no FROM instruction');
  }
  const target =
    options.target === undefined ? stages.length - 1 : findStage(stages, options.target.toLowerCase());
  if (target === undefined) {
    throw new KilnError('UNKNOWN_TARGET', `--target "${options.target}" is not a stage of the Dockerfile`, {
      hint: `stages: ${stages.map((stage) => stage.name).join(', ')}`,
    });
  }
  for (let index: number | undefined = target; index !== undefined; index = stages[index]!.baseStage)
    stages[index]!.inImage = true;
  return { globalArgs, globalLookup: fromLookup, stages, order: stagesNeeded(stages, target), target };
}

/** A `--from` word expanded with the global args: a stage of the plan, or an image. */
export function resolveFromWord(plan: BuildPlan, from: string, escapeChar: Dockerfile['escape']): FromSource {
  const word = expandWord(from, plan.globalLookup, { escape: escapeChar });
  const index = findStage(plan.stages, word.toLowerCase());
  return index === undefined ? { kind: 'image', word } : { kind: 'stage', word, index };
}

/** A stage by name (case-insensitive) or by index. */
export function findStage(stages: PlannedStage[], word: string): number | undefined {
  const named = stages.find((stage) => stage.from.stageName !== undefined && stage.name === word);
  if (named) return named.index;
  if (/^\d+$/.test(word)) {
    const index = Number(word);
    return index < stages.length ? index : undefined;
  }
  return undefined;
}

// A bare word or number is meant as a stage; anything with a registry, tag or path is an image.
function looksLikeStageName(word: string): boolean {
  return /^[a-z0-9][a-z0-9_-]*$/.test(word) && word !== 'scratch';
}

function referencedStages(instruction: Instruction): string[] {
  if (instruction.kind === 'COPY' && instruction.options.from !== undefined)
    return [instruction.options.from];
  if (instruction.kind === 'RUN') {
    const froms: string[] = [];
    for (const mount of instruction.mounts) {
      if ((mount.type === 'bind' || mount.type === 'cache') && mount.from !== undefined)
        froms.push(mount.from);
    }
    return froms;
  }
  return [];
}

function stagesNeeded(stages: PlannedStage[], target: number): number[] {
  const order: number[] = [];
  const visit = (index: number) => {
    if (order.includes(index)) return;
    for (const dependency of stages[index]?.dependencies ?? []) visit(dependency);
    order.push(index);
  };
  visit(target);
  return order;
}
