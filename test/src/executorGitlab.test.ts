import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBusyboxImage, runProcess } from '@kiln/fixtures/images';
import { runGitlabCiLocal } from '@kiln/fixtures/podman';
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
  skopeoReadFlags,
} from './executor/registryImage.ts';

// The GitLab CI job of ../shared/PIPELINES.md (debug image, `entrypoint: [""]`, a shell script writing
// /kaniko/.docker/config.json), run by gitlab-ci-local over podman as a runner's Docker executor runs it.
let testbed: ExecutorTestbed;
let helperImage: string;
beforeAll(async () => {
  testbed = await startExecutorTestbed('gitlab');
  // Docker Hub is out of reach: gitlab-ci-local's helper image comes from the local registry.
  helperImage = (await ensureBusyboxImage(testbed.imageRegistry)).reference;
}, 600_000);
afterAll(async () => {
  await testbed?.stop();
});

/** A committed project: the job's .gitlab-ci.yml (from `template`) and the multi-stage Dockerfile. */
async function writeProject(
  name: string,
  registry: TestRegistry,
  template: string,
  values: Record<string, string>,
) {
  const dir = join(testbed.work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), await multistageDockerfile(registry));
  await writeFile(
    join(dir, '.gitlab-ci.yml'),
    await readContextTemplate(template, { IMAGE: testbed.executor.debug.reference, ...values }),
  );
  return dir;
}

/** GitLab's registry variables for `registry`, project `group/project`, tag pipeline v1.0.0. */
function registryVariables(registry: TestRegistry): Record<string, string> {
  return {
    CI_REGISTRY: registry.host,
    CI_REGISTRY_USER: registry.username!,
    CI_REGISTRY_PASSWORD: registry.password!,
    CI_REGISTRY_IMAGE: `${registry.host}/group/project`,
    CI_COMMIT_TAG: 'v1.0.0',
  };
}

describe('the GitLab CI job with gitlab-ci-local', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ mode: 'basic' });
    await pushMultistageBases(registry, testbed.work);
  }, 600_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('builds $CI_PROJECT_DIR and pushes $CI_REGISTRY_IMAGE:$CI_COMMIT_TAG with the echoed config.json', {
    timeout: 900_000,
  }, async () => {
    const project = await writeProject('project', registry, 'executor-gitlab/.gitlab-ci.yml', {});
    const job = await runGitlabCiLocal(testbed.podman, {
      projectDir: project,
      jobs: ['build'],
      helperImage,
      variables: registryVariables(registry),
    });
    expect(job.stdout).not.toMatch(/internal error|decoy/i);
    expect(job.code, job.stdout + job.stderr).toBe(0);

    const destination = `${registry.host}/group/project:v1.0.0`;
    expect((await readImageConfig(registry, destination)).config.Cmd).toEqual(multistageCmd);
    const paths = await listLayerPaths(registry, destination, testbed.work);
    expect(paths).toEqual(expect.arrayContaining(multistageFiles));
    expect(executorOwnPaths(paths)).toEqual([]);
    const run = await runPushedImage(testbed.podman, registry, destination);
    expect(run.stdout).toBe(multistageOutput);
  });
});

describe('the GitLab CI job against a registry behind a private CA', () => {
  let registry: TestRegistry;
  let caPem: string;
  beforeAll(async () => {
    registry = await startRegistry({ mode: 'basic', tls: true });
    caPem = (await readFile(registry.caFile!, 'utf8')).trim();
    await pushMultistageBases(registry, testbed.work);
  }, 600_000);
  afterAll(async () => {
    await registry?.stop();
  });

  // The PEM goes into a `|` block of the YAML: every line after the first indented like the block.
  const pemLines = () => caPem.split('\n').join('\n      ');

  it('trusts the CA that before_script appends to additional-ca-cert-bundle.crt', {
    timeout: 900_000,
  }, async () => {
    const project = await writeProject('project-ca', registry, 'executor-gitlab-ca/.gitlab-ci.yml', {
      CA_PEM: pemLines(),
    });
    const job = await runGitlabCiLocal(testbed.podman, {
      projectDir: project,
      jobs: ['build'],
      helperImage,
      variables: registryVariables(registry),
    });
    expect(job.stdout).not.toMatch(/internal error|decoy/i);
    expect(job.code, job.stdout + job.stderr).toBe(0);
    const destination = `${registry.host}/group/project:v1.0.0`;
    expect((await readImageConfig(registry, destination)).config.Cmd).toEqual(multistageCmd);
  });

  it('fails the job on the unknown certificate when the CA is not appended', {
    timeout: 900_000,
  }, async () => {
    // The same job with the certificate's body replaced: proves the bundle file is what made it trust.
    const project = await writeProject('project-no-ca', registry, 'executor-gitlab-ca/.gitlab-ci.yml', {
      CA_PEM: '# no certificate here',
    });
    const job = await runGitlabCiLocal(testbed.podman, {
      projectDir: project,
      jobs: ['build'],
      helperImage,
      variables: { ...registryVariables(registry), CI_COMMIT_TAG: 'no-ca' },
    });
    expect(job.code).not.toBe(0);
    // Kaniko's wording, which GitLab users search for.
    expect(job.stdout).toContain('x509: certificate signed by unknown authority');
    const inspect = await runProcess('skopeo', [
      'inspect',
      ...skopeoReadFlags(registry),
      `docker://${registry.host}/group/project:no-ca`,
    ]);
    expect(inspect.code).not.toBe(0);
  });
});
