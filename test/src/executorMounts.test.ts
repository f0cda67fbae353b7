import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBusyboxImage } from '@kiln/fixtures/images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ExecutorTestbed,
  readContextTemplate,
  startExecutorTestbed,
} from './executor/executorTestbed.ts';
import { readManifest } from './executor/registryImage.ts';
import { contextsDir, runChecked, unpackWithUmoci } from './kilnProcess.ts';

// RUN --mount in the executor image under a pod's seccomp profile: no mounts, no namespaces, yet
// cache, secret, bind and tmpfs mounts behave as in BuildKit and leave nothing in the image.
let testbed: ExecutorTestbed;
beforeAll(async () => {
  testbed = await startExecutorTestbed('mounts');
  await ensureBusyboxImage(testbed.imageRegistry);
}, 600_000);
afterAll(async () => {
  await testbed?.stop();
});

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

async function filesUnder(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const found: { path: string; bytes: Buffer }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      found.push({ path, bytes: await readFile(path) });
    }
  }
  return found;
}

describe('RUN --mount in the container executor', () => {
  it('cache, secret, bind and tmpfs mounts work unchanged; the cache outlives the build; no trace in the image', {
    timeout: 900_000,
  }, async () => {
    const workspace = join(testbed.work, 'workspace');
    await mkdir(workspace, { recursive: true });
    await cp(join(contextsDir, 'executor-mounts', 'src'), join(workspace, 'src'), { recursive: true });
    await writeFile(
      join(workspace, 'Dockerfile'),
      await readContextTemplate('executor-mounts/Dockerfile', { REGISTRY: testbed.imageRegistry.host }),
    );
    // The Kubernetes pattern (a secret volume) and the GitLab one (a variable).
    const secrets = join(testbed.work, 'secrets');
    await mkdir(secrets);
    const npmrc = `//registry.npmjs.org/:_authToken=${randomBytes(12).toString('hex')}`;
    const token = `glpat-${randomBytes(12).toString('hex')}`;
    await writeFile(join(secrets, 'npmrc'), npmrc);
    const cacheDir = join(testbed.work, 'cache');
    await mkdir(cacheDir);
    const build = (id: string) =>
      testbed.podman.run(
        [
          'run',
          '--rm',
          '--volume',
          `${workspace}:/workspace`,
          '--volume',
          `${secrets}:/var/run/secrets/app:ro`,
          '--volume',
          `${cacheDir}:/cache`,
          '--env',
          `NPM_TOKEN=${token}`,
          testbed.executor.latest.reference,
          `--destination=${testbed.imageRegistry.host}/e2e/mounts:${id}`,
          `--build-arg=BUILD_ID=${id}`,
          '--cache-dir=/cache',
          '--compression=none',
          '--secret',
          'id=npmrc,src=/var/run/secrets/app/npmrc',
          '--secret',
          'id=token,env=NPM_TOKEN',
        ],
        { timeoutMs: 600_000 },
      );
    const first = await build('one');
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const second = await build('two');
    expect(second.code, second.stdout + second.stderr).toBe(0);

    const rootfs = await unpackWithUmoci(
      `docker://${testbed.imageRegistry.host}/e2e/mounts:two`,
      join(testbed.work, 'unpacked'),
    );
    const read = async (path: string) => (await readFile(join(rootfs, path), 'utf8')).trim();
    // The second build saw what the first wrote into the cache, and the image's own content was
    // moved aside for the RUN and back after it.
    expect((await read('seen-cache')).split('\n')).toEqual(['build-one']);
    expect((await read('after-cache')).split('\n')).toEqual(['from-image']);
    expect(await read('npmrc-hash')).toBe(sha(npmrc));
    expect(await read('npmrc-mode')).toBe('400');
    expect(await read('token-hash')).toBe(sha(token));
    expect(await read('seen-bind')).toBe('from the context');
    expect(await read('seen-tmp')).toBe('');
    expect(await read('after-tmp')).toBe('from-image');
    expect(await read('clean')).toBe('clean');
    expect(await readFile(join(workspace, 'src', 'input.txt'), 'utf8')).toBe('from the context\n');
    // The mount RUN's layer holds only the files it wrote outside its mounts.
    const manifest = await readManifest(
      testbed.imageRegistry,
      `${testbed.imageRegistry.host}/e2e/mounts:two`,
    );
    expect(manifest.layers).toHaveLength(4);

    // Neither secret is anywhere: registry storage (uncompressed layers, configs), logs.
    const everywhere = [
      ...(await filesUnder(testbed.imageRegistry.storageDir)),
      ...(await filesUnder(cacheDir)),
      { path: 'first output', bytes: Buffer.from(first.stdout + first.stderr) },
      { path: 'second output', bytes: Buffer.from(second.stdout + second.stderr) },
    ];
    const holders = everywhere
      .filter(({ bytes }) => bytes.includes(npmrc) || bytes.includes(token))
      .map(({ path }) => path);
    expect(holders).toEqual([]);
  });

  it('ssh mounts forward to an agent socket mounted into the pod, as root and as another user', {
    timeout: 900_000,
  }, async () => {
    const workspace = join(testbed.work, 'ssh-workspace');
    await mkdir(workspace, { recursive: true });
    await writeFile(
      join(workspace, 'Dockerfile'),
      [
        `FROM ${testbed.imageRegistry.host}/kiln/busybox:latest`,
        'COPY agent-list /usr/local/bin/agent-list',
        'RUN --mount=type=ssh agent-list > /keys && stat -c "%a %u" "$SSH_AUTH_SOCK" > /sock-mode',
        'USER 1000',
        'RUN --mount=type=ssh,uid=1000,target=/tmp/agent agent-list > /tmp/keys-as-user',
        'USER 0',
        'RUN test ! -e /run/buildkit && test ! -e /tmp/agent && echo clean > /clean',
        '',
      ].join('\n'),
    );
    // The RUN's `ssh-add -l`: a static agent client built here, since busybox has none.
    await runChecked('gcc', [
      '-static',
      '-O2',
      '-o',
      join(workspace, 'agent-list'),
      join(import.meta.dirname, 'ssh/agentList.c'),
    ]);
    const agentDir = join(testbed.work, 'agent');
    await mkdir(agentDir);
    const key = join(agentDir, 'id_ed25519');
    const comment = `kiln-pod-key-${randomBytes(6).toString('hex')}`;
    await runChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', key]);
    const socket = join(agentDir, 'agent.sock');
    const agentPid = Number(
      /SSH_AGENT_PID=(\d+)/.exec(await runChecked('ssh-agent', ['-s', '-a', socket]))?.[1],
    );
    try {
      await runChecked('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      const destination = `${testbed.imageRegistry.host}/e2e/ssh:1`;
      const build = await testbed.podman.run(
        [
          'run',
          '--rm',
          '--volume',
          `${workspace}:/workspace`,
          '--volume',
          `${agentDir}:/agent`,
          testbed.executor.latest.reference,
          `--destination=${destination}`,
          '--ssh',
          'default=/agent/agent.sock',
        ],
        { timeoutMs: 600_000 },
      );
      expect(build.code, build.stdout + build.stderr).toBe(0);
      const rootfs = await unpackWithUmoci(`docker://${destination}`, join(testbed.work, 'ssh-unpacked'));
      const read = async (path: string) => (await readFile(join(rootfs, path), 'utf8')).trim();
      expect(await read('keys')).toBe(`1 keys\n${comment}`);
      expect(await read('sock-mode')).toBe('600 0');
      expect(await read('tmp/keys-as-user')).toBe(`1 keys\n${comment}`);
      expect(await read('clean')).toBe('clean');
    } finally {
      process.kill(agentPid, 'SIGTERM');
    }
  });
});
