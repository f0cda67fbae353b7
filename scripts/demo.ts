// The Quick start's main job. Until the build engine lands, it parses the example Dockerfile.
import { spawnSync } from 'node:child_process';

const result = spawnSync(
  process.execPath,
  ['packages/cli/src/main.ts', 'parse', 'examples/multistage/Dockerfile', ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exitCode = result.status ?? 1;
