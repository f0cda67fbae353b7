import type { Descriptor, Digest, HistoryEntry, ImageConfig } from '@kiln/image';

export interface StageLayer {
  descriptor: Descriptor;
  diffId: Digest;
}

/** Everything a stage carries from step to step; becomes the image when the stage is the target. */
export interface StageState {
  name: string;
  index: number;
  /** The image config being built (`config` always present). */
  config: ImageConfig & { config: NonNullable<ImageConfig['config']> };
  history: HistoryEntry[];
  layers: StageLayer[];
  /** ARGs declared in this stage (after FROM), with their values. */
  args: Map<string, string | undefined>;
  /** Cache key of the last step (the base image's digest to start with). */
  cacheKey: string;
  /** The base image's manifest media type (inherited from a base stage); none for scratch. */
  baseMediaType?: string;
  /** The directory the stage's filesystem lives in. */
  root: string;
}

export const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The value of an env var in the config's Env list. */
export function getEnv(state: StageState, name: string): string | undefined {
  const prefix = `${name}=`;
  for (const entry of state.config.config.Env ?? []) {
    if (entry.startsWith(prefix)) return entry.slice(prefix.length);
  }
  return undefined;
}

/** Sets an env var in place (order kept, as Docker does). */
export function setEnv(state: StageState, name: string, value: string): void {
  const env = state.config.config.Env ?? [];
  const prefix = `${name}=`;
  const index = env.findIndex((entry) => entry.startsWith(prefix));
  if (index === -1) env.push(`${name}=${value}`);
  else env[index] = `${name}=${value}`;
  state.config.config.Env = env;
}

/** Word-expansion lookup: ENV wins over ARG of the same name, as in Docker. */
export function stageLookup(state: StageState): (name: string) => string | undefined {
  return (name) => getEnv(state, name) ?? state.args.get(name);
}
