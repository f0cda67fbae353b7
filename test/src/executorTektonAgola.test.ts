import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBusyboxImage, ensureDebianImage } from '@kiln/fixtures/images';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ExecutorTestbed,
  readContextTemplate,
  startExecutorTestbed,
} from './executor/executorTestbed.ts';
import { pushKilnDirsBase } from './executor/kilnDirsBase.ts';
import { executorOwnPaths, listLayerPaths, readDigest, runPushedImage } from './executor/registryImage.ts';
import { contextsDir } from './kilnProcess.ts';

// The Tekton step and the Agola task of ../shared/PIPELINES.md, each as the plain `podman run` their
// runtimes would start: same image, command, env, mounts and flags, in an unprivileged container.
let testbed: ExecutorTestbed;
beforeAll(async () => {
  testbed = await startExecutorTestbed('tekton-agola');
}, 600_000);
afterAll(async () => {
  await testbed?.stop();
});

describe('the Tekton Task step', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    // Token auth, as a cloud registry does; the token realm is on 127.0.0.1 too (host network).
    registry = await startRegistry({ mode: 'token' });
    const withAuth = { ...registry, dockerConfigDir: await registry.dockerConfig() };
    await ensureBusyboxImage(withAuth);
    await ensureDebianImage(withAuth);
  }, 900_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('builds /workspace/repo/src on Debian with DOCKER_CONFIG=/tekton/home/.docker and pushes', {
    timeout: 900_000,
  }, async () => {
    const repo = join(testbed.work, 'tekton-repo');
    await cp(join(contextsDir, 'executor-tekton'), repo, { recursive: true });
    await writeFile(
      join(repo, 'src/Dockerfile'),
      await readContextTemplate('executor-tekton/src/Dockerfile', { REGISTRY: registry.host }),
    );
    const destination = `${registry.host}/arthurk/tekton-test:latest`;
    const step = await testbed.podman.run(
      [
        'run',
        '--rm',
        // The step's `command` replaces the image's entrypoint.
        '--entrypoint',
        '/kaniko/executor',
        '--env',
        'DOCKER_CONFIG=/tekton/home/.docker',
        '--volume',
        `${await registry.dockerConfig()}:/tekton/home/.docker:ro`,
        '--volume',
        `${repo}:/workspace/repo`,
        testbed.executor.latest.reference,
        '--dockerfile=Dockerfile',
        '--context=/workspace/repo/src',
        `--destination=${destination}`,
      ],
      { timeoutMs: 900_000 },
    );
    expect(step.stdout + step.stderr).not.toMatch(/internal error/i);
    expect(step.code, step.stdout + step.stderr).toBe(0);

    const paths = await listLayerPaths(registry, destination, testbed.work);
    expect(paths).toEqual(expect.arrayContaining(['opt/artifact', 'opt/greeting.txt', 'home/app/id']));
    expect(executorOwnPaths(paths)).toEqual([]);
    const run = await runPushedImage(testbed.podman, registry, destination);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      [
        'made in the busybox stage',
        'hello from the Tekton workspace',
        'uid=1001(app) gid=1001(app) groups=1001(app)',
        'Uid: 1001 1001 1001 1001',
        '',
      ].join('\n'),
    );
  });
});

/** The Agola context with its Dockerfile filled in, as the workspace a task restores. */
async function agolaWorkspace(name: string): Promise<string> {
  const workspace = join(testbed.work, name);
  await mkdir(workspace, { recursive: true });
  await cp(join(contextsDir, 'executor-agola'), workspace, { recursive: true });
  await writeFile(
    join(workspace, 'Dockerfile'),
    await readContextTemplate('executor-agola/Dockerfile', { REGISTRY: testbed.imageRegistry.host }),
  );
  return workspace;
}

/**
 * Agola runs each step with `shell: /busybox/sh` in `working_dir: /workspace` of the debug image;
 * `restore_workspace` unpacks into it, so /workspace is a plain directory (the steps copy from /restore).
 */
function runAgolaTask(workspace: string, steps: string, env: Record<string, string> = {}) {
  return testbed.podman.run(
    [
      'run',
      '--rm',
      '--entrypoint',
      '/busybox/sh',
      '--workdir',
      '/workspace',
      '--volume',
      `${workspace}:/restore:ro`,
      ...Object.entries(env).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
      testbed.executor.debug.reference,
      '-c',
      steps,
    ],
    { timeoutMs: 900_000 },
  );
}

describe('the Agola task', () => {
  beforeAll(async () => {
    // The task has no credentials: its bases come from a plain-HTTP registry on 127.0.0.1.
    await ensureBusyboxImage(testbed.imageRegistry);
    await pushKilnDirsBase(testbed.imageRegistry, testbed.work, testbed.imageRegistry.host);
  }, 600_000);

  it('runs /kaniko/executor --no-push in /workspace restored as a plain directory, with .dockerignore', {
    timeout: 900_000,
  }, async () => {
    const workspace = await agolaWorkspace('agola-workspace');
    // Kiln's own files are hashed around the build: the decoy base must not touch them.
    const own = '/kiln/node /kiln/kiln.mjs /kiln/.executor-image /kaniko/executor /busybox/busybox';
    const steps = [
      'cp -a /restore/. .',
      `before="$(sha256sum ${own})"`,
      '/kaniko/executor --no-push',
      `test "$(sha256sum ${own})" = "$before"`,
      `echo "kiln's own files unchanged"`,
    ].join(' && ');
    const task = await runAgolaTask(workspace, steps);
    const output = task.stdout + task.stderr;
    expect(output).not.toMatch(/internal error|decoy/i);
    expect(task.code, output).toBe(0);
    expect(output).toContain('context files: ./.dockerignore ./Dockerfile ./app/hello.txt');
    expect(output).not.toMatch(/secret\.txt|build\.log/);
    expect(output).toContain("kiln's own files unchanged");
  });

  it('pushes to several destinations with config.json written by a step (`auth` under a URL key)', {
    timeout: 900_000,
  }, async () => {
    const registry = await startRegistry({ mode: 'basic' });
    try {
      const workspace = await agolaWorkspace('agola-push-workspace');
      const [first, second] = ['a:1', 'b:2'].map((name) => `${registry.host}/agola/${name}`);
      const steps = [
        'cp -a /restore/. .',
        'echo "{\\"auths\\": {\\"$DOCKERREGISTRY_URL\\": {\\"auth\\": \\"$DOCKERAUTH\\"}}}" > /kaniko/.docker/config.json',
        `/kaniko/executor --destination ${first} --destination ${second}`,
      ].join(' && ');
      const task = await runAgolaTask(workspace, steps, {
        // As Docker Hub's `https://index.docker.io/v1/`: a URL, not a bare host.
        DOCKERREGISTRY_URL: `https://${registry.host}/v1/`,
        DOCKERAUTH: Buffer.from(`${registry.username}:${registry.password}`).toString('base64'),
      });
      expect(task.code, task.stdout + task.stderr).toBe(0);
      const digests = await Promise.all(
        [first!, second!].map(async (reference) => readDigest(registry, reference)),
      );
      expect(digests[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(digests[1]).toBe(digests[0]);
    } finally {
      await registry.stop();
    }
  });
});
