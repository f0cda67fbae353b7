import { ensureBusyboxImage } from '@kiln/fixtures/images';
import { runKubePod } from '@kiln/fixtures/podman';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ExecutorTestbed,
  readContextTemplate,
  startExecutorTestbed,
} from './executor/executorTestbed.ts';
import { pushKilnDirsBase } from './executor/kilnDirsBase.ts';
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
  const withAuth = { ...registry, dockerConfigDir: await registry.dockerConfig() };
  await ensureBusyboxImage(withAuth);
  await pushKilnDirsBase(withAuth, testbed.work, registry.host);
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
    const dockerfile = await readContextTemplate('executor-multistage/Dockerfile', {
      REGISTRY: registry.host,
    });
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
    expect(config.config.Cmd).toEqual(['sh', '-c', 'cat /out/proc-status /out/run-as /out/summary']);
    // busybox's layer, COPY --from, the final RUN.
    expect(config.rootfs.diff_ids).toHaveLength(3);
    const paths = await listLayerPaths(registry, destination, testbed.work);
    expect(paths).toEqual(expect.arrayContaining(['out/proc-status', 'out/run-as', 'out/summary']));
    expect(executorOwnPaths(paths)).toEqual([]);

    const run = await runPushedImage(testbed.podman, registry, destination);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      [
        // The build ran with exactly a default pod's capabilities and under a seccomp filter.
        'CapEff:\t00000000a80425fb',
        'Seccomp:\t2',
        'run as uid=1000(builder) gid=1000(builder) groups=1000(builder),2000(crew)',
        'Uid: 1000 1000 1000 1000',
        'Groups: 1000 2000',
        'final stage: 3 lines from the build stage',
        '',
      ].join('\n'),
    );
  });
});
