// Builds Kiln's executor image with Kiln itself: stages the context (patched Node + glibc under /kiln/lib,
// CLI bundle, launcher, CA bundle, busybox for the debug target), then `kiln build` of
// images/executor/Dockerfile to HOST/REPO:TAG and HOST/REPO:debug. See images/executor/README.md.
// Scripts are not a workspace package, so the executor image's package is imported by path.
//
//   pnpm executor-image --destination 127.0.0.1:5000/kiln/executor[:latest] [--insecure]
//   pnpm executor-image --registry 127.0.0.1:5000 [--insecure] [--repository kiln/executor] [--tag latest]
//   pnpm executor-image --stage-only [--context DIR]
import { join } from 'node:path';
import { buildExecutorImage, stageExecutorContext } from '../images/executor/src/index.ts';
import { executorImageUsage, parseExecutorImageArgs, UsageError } from './executorImageArgs.ts';

const repo = join(import.meta.dirname, '..');
const say = (text: string) => process.stdout.write(`${text}\n`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

let args: ReturnType<typeof parseExecutorImageArgs> | undefined;
try {
  args = parseExecutorImageArgs(process.argv.slice(2), repo);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`executor-image: ${error.message}\n${executorImageUsage}\n`);
  process.exitCode = 2;
}

const started = Date.now();
if (args?.mode === 'help') {
  say(executorImageUsage);
} else if (args?.mode === 'stage-only') {
  const staged = await stageExecutorContext({ outDir: args.context, skipCliBuild: args.skipCliBuild });
  say(`staged ${staged.dir}: ${(staged.sizeBytes / 1e6).toFixed(1)} MB in ${seconds(started)}`);
  say(`libraries in kiln/lib: ${staged.libraries.join(' ')}`);
} else if (args?.mode === 'build') {
  const images = await buildExecutorImage({
    registry: {
      host: args.registry!,
      tls: !args.insecure,
      ...(args.caFile === undefined ? {} : { caFile: args.caFile }),
      ...(args.dockerConfig === undefined ? {} : { dockerConfigDir: args.dockerConfig }),
    },
    repository: args.repository,
    tag: args.tag,
    contextDir: args.context,
    skipCliBuild: args.skipCliBuild,
    inheritOutput: true,
  });
  say(`staged context: ${(images.staged.sizeBytes / 1e6).toFixed(1)} MB`);
  say(`${images.latest.reference} ${images.latest.digest}`);
  say(`${images.debug.reference} ${images.debug.digest}`);
  say(`done in ${seconds(started)}`);
}
