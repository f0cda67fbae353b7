import type { ImageConfig } from '@kiln/image';
import { defaultPath } from './stageState.ts';

/**
 * The config a `FROM scratch` stage starts with, as BuildKit's emptyImage makes it: the default
 * PATH and `/` as the working directory (not an empty config), so `RUN` finds its binaries and the
 * image records both.
 */
export function scratchConfig(): NonNullable<ImageConfig['config']> {
  return { Env: [`PATH=${defaultPath}`], WorkingDir: '/' };
}
