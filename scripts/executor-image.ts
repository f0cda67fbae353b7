// Builds Kiln's executor image with Kiln itself: stages the context (patched Node + glibc under /kiln/lib,
// CLI bundle, launcher, CA bundle, busybox for the debug target), then `kiln build` of
// images/executor/Dockerfile to HOST/REPO:latest and HOST/REPO:debug.
// Scripts are not a workspace package, so the fixtures are imported by path.
//
//   pnpm executor-image --registry 127.0.0.1:5000 [--insecure] [--repository kiln/executor] [--tag latest]
//   pnpm executor-image --stage-only [--context DIR]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stageExecutorContext } from '../fixtures/src/images/index.ts';

const repo = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    registry: { type: 'string' },
    repository: { type: 'string', default: 'kiln/executor' },
    tag: { type: 'string', default: 'latest' },
    insecure: { type: 'boolean', default: false },
    context: { type: 'string', default: join(repo, '.work/executor-context') },
    'stage-only': { type: 'boolean', default: false },
    'skip-cli-build': { type: 'boolean', default: false },
  },
});
const say = (text: string) => process.stdout.write(`${text}\n`);

if (!values['stage-only'] && values.registry === undefined) {
  process.stderr.write('executor-image: --registry HOST[:PORT] is required (or --stage-only)\n');
  process.exit(2);
}

const started = Date.now();
const staged = await stageExecutorContext({ outDir: values.context, skipCliBuild: values['skip-cli-build'] });
say(
  `staged ${staged.dir}: ${(staged.sizeBytes / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s (libs: ${staged.libraries.join(' ')})`,
);

if (!values['stage-only']) {
  const base = `${values.registry}/${values.repository}`;
  const debugTag = values.tag === 'latest' ? 'debug' : `${values.tag}-debug`;
  for (const [target, tag] of [
    ['latest', values.tag],
    ['debug', debugTag],
  ] as const) {
    const args = [
      join(repo, 'packages/cli/src/main.ts'),
      'build',
      '--context',
      staged.dir,
      '--dockerfile',
      staged.dockerfile,
      '--target',
      target,
      '--destination',
      `${base}:${tag}`,
      '--reproducible',
      ...(values.insecure ? ['--insecure-registry', values.registry ?? ''] : []),
    ];
    say(`kiln build --target ${target} → ${base}:${tag}`);
    const code = await run(process.execPath, args);
    if (code !== 0) {
      process.exitCode = code;
      break;
    }
  }
}

function run(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}
