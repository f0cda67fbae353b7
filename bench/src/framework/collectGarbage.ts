import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Garbage left by the previous contender would otherwise be collected inside the next one's timed run.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;

/** A full collection, untimed, before each measured run. */
export function collectGarbage(): void {
  gc?.();
}
