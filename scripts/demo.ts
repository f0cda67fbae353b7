// The Quick start's main job: a local registry, the busybox base pushed to it, the multi-stage
// Scripts are not a workspace package, so the fixtures are imported by path.
// example built with `kiln build` and pushed there, and how to look at the result.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBusyboxImage } from '../fixtures/src/images/index.ts';
import { startRegistry } from '../fixtures/src/registry/index.ts';

const repo = join(import.meta.dirname, '..');
const say = (text: string) => process.stdout.write(`${text}\n`);

const registry = await startRegistry({ mode: 'plain' });
const scratch = await mkdtemp(join(tmpdir(), 'kiln-demo-'));
let exitCode = 0;
try {
  say(`local registry at ${registry.url}`);
  const base = await ensureBusyboxImage(registry);
  say(`base image ${base.reference} (${base.digest})`);
  const destination = `${registry.host}/kiln/demo:latest`;
  const digestFile = join(scratch, 'digest');
  exitCode = await run(process.execPath, [
    join(repo, 'packages/cli/src/main.ts'),
    'build',
    '--context',
    join(repo, 'examples/multistage'),
    '--build-arg',
    `BASE=${base.reference}`,
    '--destination',
    destination,
    '--insecure-registry',
    registry.host,
    '--digest-file',
    digestFile,
    ...process.argv.slice(2),
  ]);
  if (exitCode === 0) {
    const digest = (await readFile(digestFile, 'utf8')).trim();
    say('');
    say(`pushed ${destination}`);
    say(`digest ${digest}`);
    say('look at it (while a registry runs there):');
    say(`  skopeo inspect --tls-verify=false docker://${destination}`);
    say(`  skopeo inspect --tls-verify=false --config docker://${registry.host}/kiln/demo@${digest}`);
    await run('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${destination}`]);
  }
} finally {
  await registry.stop();
  await rm(scratch, { recursive: true, force: true });
}
process.exitCode = exitCode;

function run(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}
