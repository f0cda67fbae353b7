// Builds Kiln's executor image with Kiln itself: stages the context (patched Node + glibc under /kiln/lib,
// CLI bundle, launcher, CA bundle, busybox for the debug target), then `kiln build` of
// images/executor/Dockerfile to HOST/REPO:TAG and HOST/REPO:debug. See images/executor/README.md.
// Scripts are not a workspace package, so the executor image's package is imported by path.
//
//   pnpm executor-image --registry 127.0.0.1:5000 [--insecure] [--repository kiln/executor] [--tag latest]
//   pnpm executor-image --stage-only [--context DIR]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildExecutorImage, stageExecutorContext } from '../images/executor/src/index.ts';

const repo = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    registry: { type: 'string' },
    repository: { type: 'string', default: 'kiln/executor' },
    tag: { type: 'string', default: 'latest' },
    insecure: { type: 'boolean', default: false },
    'ca-file': { type: 'string' },
    'docker-config': { type: 'string' },
    context: { type: 'string', default: join(repo, '.work/executor-context') },
    'stage-only': { type: 'boolean', default: false },
    'skip-cli-build': { type: 'boolean', default: false },
  },
});
const say = (text: string) => process.stdout.write(`${text}\n`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

const started = Date.now();
if (values['stage-only']) {
  const staged = await stageExecutorContext({
    outDir: values.context,
    skipCliBuild: values['skip-cli-build'],
  });
  say(`staged ${staged.dir}: ${(staged.sizeBytes / 1e6).toFixed(1)} MB in ${seconds(started)}`);
  say(`libraries in kiln/lib: ${staged.libraries.join(' ')}`);
} else if (values.registry === undefined) {
  process.stderr.write('executor-image: --registry HOST[:PORT] is required (or --stage-only)\n');
  process.exitCode = 2;
} else {
  const images = await buildExecutorImage({
    registry: {
      host: values.registry,
      tls: !values.insecure,
      ...(values['ca-file'] === undefined ? {} : { caFile: values['ca-file'] }),
      ...(values['docker-config'] === undefined ? {} : { dockerConfigDir: values['docker-config'] }),
    },
    repository: values.repository,
    tag: values.tag,
    contextDir: values.context,
    skipCliBuild: values['skip-cli-build'],
    inheritOutput: true,
  });
  say(`staged context: ${(images.staged.sizeBytes / 1e6).toFixed(1)} MB`);
  say(`${images.latest.reference} ${images.latest.digest}`);
  say(`${images.debug.reference} ${images.debug.digest}`);
  say(`done in ${seconds(started)}`);
}
