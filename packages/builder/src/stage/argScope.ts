import type { ArgInstruction, EscapeChar } from '@kiln/dockerfile';
import { expandWord } from '@kiln/dockerfile';
import type { StageState } from './stageState.ts';
import { stageLookup } from './stageState.ts';

/** Args every build may pass without declaring them; kept out of history as BuildKit does. */
const proxyArgs = new Set([
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
]);

/** `HTTP_PROXY`, `no_proxy`…: the predefined proxy args (either case, as BuildKit lists them). */
export function isProxyArg(name: string): boolean {
  return proxyArgs.has(name);
}

export interface ArgSources {
  buildArgs: Map<string, string>;
  globalArgs: Map<string, string | undefined>;
  automaticArgs: Map<string, string>;
  /** Build args the Dockerfile declares somewhere (to warn about the unused ones). */
  consumed: Set<string>;
}

/**
 * ARG inside a stage: --build-arg wins, then the default, then (for a name declared before FROM)
 * the global value, then BuildKit's automatic platform args.
 */
export function declareArgs(
  state: StageState,
  instruction: ArgInstruction,
  sources: ArgSources,
  escapeChar: EscapeChar,
): void {
  for (const arg of instruction.args) {
    sources.consumed.add(arg.name);
    let value: string | undefined;
    if (sources.buildArgs.has(arg.name)) value = sources.buildArgs.get(arg.name);
    else if (arg.defaultValue !== undefined)
      value = expandWord(arg.defaultValue, stageLookup(state), { escape: escapeChar });
    else if (sources.globalArgs.has(arg.name)) value = sources.globalArgs.get(arg.name);
    else value = sources.automaticArgs.get(arg.name);
    state.args.set(arg.name, value);
  }
}

/** The args a RUN sees as environment: declared args with values, plus proxy args passed in. */
export function runArgs(state: StageState, sources: ArgSources): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of state.args) if (value !== undefined) pairs.push([name, value]);
  for (const name of proxyArgs) {
    const value = sources.buildArgs.get(name);
    if (value !== undefined && !state.args.has(name)) pairs.push([name, value]);
  }
  return pairs;
}
