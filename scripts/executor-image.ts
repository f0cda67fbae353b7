// Builds Kiln's executor image with Kiln itself: stages the context (patched Node + glibc under /kiln/lib,
// CLI bundle, launcher, CA bundle, busybox for the debug target), then `kiln build` of
// images/executor/Dockerfile to HOST/REPO:TAG and HOST/REPO:debug. See images/executor/README.md.
// Scripts are not a workspace package, so the executor image's package is imported by path.
//
//   pnpm executor-image --destination 127.0.0.1:5000/kiln/executor[:latest] [--insecure]
//   pnpm executor-image --registry 127.0.0.1:5000 [--insecure] [--repository kiln/executor] [--tag latest]
//   pnpm executor-image --stage-only [--context DIR]
//   --arch amd64,arm64 (the default): each tag an image index of both; --arch amd64: a plain image.
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
  const staged = await stageExecutorContext({
    outDir: args.context,
    skipCliBuild: args.skipCliBuild,
    architectures: args.architectures,
  });
  say(`staged ${staged.dir}: ${(staged.sizeBytes / 1e6).toFixed(1)} MB in ${seconds(started)}`);
  for (const arch of staged.architectures) {
    say(
      `${arch.architecture}: ${(arch.sizeBytes / 1e6).toFixed(1)} MB staged in ${(arch.stagingMs / 1000).toFixed(1)} s; kiln/lib: ${arch.libraries.join(' ')}`,
    );
  }
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
    architectures: args.architectures,
    inheritOutput: true,
  });
  for (const arch of images.staged.architectures) {
    say(
      `${arch.architecture}: ${(arch.sizeBytes / 1e6).toFixed(1)} MB staged in ${(arch.stagingMs / 1000).toFixed(1)} s`,
    );
  }
  for (const platform of images.platforms) {
    say(`linux/${platform.architecture}: latest ${platform.latest.digest}, debug ${platform.debug.digest}`);
  }
  say(`${images.latest.reference} ${images.latest.digest}`);
  say(`${images.debug.reference} ${images.debug.digest}`);
  say(`done in ${seconds(started)}`);
}
