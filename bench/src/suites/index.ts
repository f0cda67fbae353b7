import type { Suite } from '../framework/suite.ts';
import { buildSuite } from './build.ts';
import { layerSuite } from './layer.ts';
import { parseSuite } from './parse.ts';
import { pushSuite } from './push.ts';
import { snapshotSuite } from './snapshot.ts';

/** Every bench suite, in the order `pnpm bench all` runs them. One line per suite. */
export const suites: Suite[] = [snapshotSuite, layerSuite, pushSuite, parseSuite, buildSuite];
