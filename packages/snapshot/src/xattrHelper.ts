import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How to start an xattr helper (Node has no xattr API): Kiln's static `kiln-xattr` (images/executor/
 * xattr-helper.c, shipped in the executor image, which has no python3) or python3 running a script. Both
 * speak the same stdin/stdout protocols, so callers parse one way whichever runs.
 */
export interface XattrHelperCommand {
  command: string;
  args: string[];
}

/** Where the executor image ships the helper. */
export const executorXattrHelperPath = '/kiln/kiln-xattr';

const pythonCandidates = ['/usr/bin/python3', '/usr/local/bin/python3', '/bin/python3'];

/**
 * The helper for `mode`: `$KILN_XATTR_HELPER`, else `/kiln/kiln-xattr` when it exists, else
 * `kiln-xattr` on `$PATH` (the project's bootstrap builds one into `.tools/bin`), all with argv
 * `[helper, mode]`; else python3 running `pythonSource` (argv `[python, '-c', source, mode]`); undefined
 * when there is none.
 */
export function resolveXattrHelper(
  mode: 'get' | 'get-dirs' | 'walk' | 'rescan' | 'set',
  pythonSource: string,
  env: NodeJS.ProcessEnv = process.env,
): XattrHelperCommand | undefined {
  const configured = env.KILN_XATTR_HELPER;
  if (configured !== undefined && configured !== '') return { command: configured, args: [mode] };
  if (existsSync(executorXattrHelperPath)) return { command: executorXattrHelperPath, args: [mode] };
  const onPath = (env.PATH ?? '')
    .split(':')
    .filter((dir) => dir.startsWith('/'))
    .map((dir) => join(dir, 'kiln-xattr'))
    .find((candidate) => existsSync(candidate));
  if (onPath !== undefined) return { command: onPath, args: [mode] };
  const python = pythonCandidates.find((candidate) => existsSync(candidate));
  return python === undefined ? undefined : { command: python, args: ['-c', pythonSource, mode] };
}
