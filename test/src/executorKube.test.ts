import { runKubePod } from '@kiln/fixtures/podman';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ExecutorTestbed,
  readContextTemplate,
  startExecutorTestbed,
} from './executor/executorTestbed.ts';
import {
  multistageCmd,
  multistageDockerfile,
  multistageFiles,
  multistageOutput,
  pushMultistageBases,
} from './executor/multistageImage.ts';
import {
  executorOwnPaths,
  listLayerPaths,
  readImageConfig,
  runPushedImage,
} from './executor/registryImage.ts';

// The Kubernetes Pod of ../shared/PIPELINES.md, played by podman as an unprivileged pod (default
// capabilities, a pod's seccomp profile: no unshare, no mount), pushing to a basic-auth registry.
let testbed: ExecutorTestbed;
let registry: TestRegistry;
beforeAll(async () => {
  testbed = await startExecutorTestbed('kube');
  registry = await startRegistry({ mode: 'basic' });
  await pushMultistageBases(registry, testbed.work);
}, 600_000);
afterAll(async () => {
  await testbed?.stop();
  await registry?.stop();
});

describe('the Kubernetes Pod with podman kube play', () => {
  it('builds the multi-stage Dockerfile from the ConfigMap and pushes with /kaniko/.docker/config.json', {
    timeout: 600_000,
  }, async () => {
    const destination = `${registry.host}/cnych/kaniko-test:v0.0.1`;
    // The Pod reads config.json at /kaniko/.docker: `auth` is base64 user:password, as a regcred Secret holds.
    const dockerConfigDir = await registry.dockerConfig();
    const dockerfile = await multistageDockerfile(registry);
    const manifest = await readContextTemplate('executor-kube/pod.yaml', {
      IMAGE: testbed.executor.latest.reference,
      DESTINATION: destination,
      DOCKERFILE_JSON: JSON.stringify(dockerfile),
      DOCKER_CONFIG_DIR: dockerConfigDir,
    });
    const result = await runKubePod(testbed.podman, { manifest, pod: 'kaniko', containers: ['kaniko'] });
    const kaniko = result.containers.kaniko!;
    expect(kaniko.logs).not.toMatch(/internal error|decoy/i);
    expect(kaniko.exitCode, kaniko.logs).toBe(0);

    const config = await readImageConfig(registry, destination);
    expect(config.config.Cmd).toEqual(multistageCmd);
    // busybox's layer, COPY --from, the final RUN.
    expect(config.rootfs.diff_ids).toHaveLength(3);
    const paths = await listLayerPaths(registry, destination, testbed.work);
    expect(paths).toEqual(expect.arrayContaining(multistageFiles));
    expect(executorOwnPaths(paths)).toEqual([]);

    const run = await runPushedImage(testbed.podman, registry, destination);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(multistageOutput);
  });
});
