import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureOutput } from '../../testing/captureOutput.ts';
import { createExecutorCommand } from './executorCommand.ts';

let dir: string;
let basic: TestRegistry;
let mutual: TestRegistry;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-executor-registries-'));
  await writeFile(join(dir, 'hello.txt'), 'hello\n');
  [basic, mutual] = await Promise.all([
    startRegistry({ mode: 'basic' }),
    startRegistry({ mode: 'tls', clientCertificates: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([basic?.stop(), mutual?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

async function executor(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  dockerfile = 'FROM scratch\nCOPY hello.txt /\n',
) {
  const context = await mkdtemp(join(dir, 'ctx-'));
  await writeFile(join(context, 'Dockerfile'), dockerfile);
  await writeFile(join(context, 'hello.txt'), 'hello\n');
  const output = captureOutput();
  const command = createExecutorCommand(output, '/nonexistent-workspace', env).exitOverride();
  const run = command.parseAsync([`--context=${context}`, '--reproducible', ...args], { from: 'user' });
  return { output, run };
}

async function manifestStatus(registry: TestRegistry, repository: string, tag: string): Promise<number> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`,
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  return response.status;
}

/** A Kaniko directory moved elsewhere, holding `.docker/config.json` for the basic-auth registry. */
async function kanikoDir(): Promise<string> {
  const moved = join(dir, 'kaniko-moved');
  await mkdir(join(moved, '.docker'), { recursive: true });
  await writeFile(
    join(moved, '.docker/config.json'),
    await readFile(join(await basic.dockerConfig(), 'config.json')),
  );
  return moved;
}

describe('kiln executor: Kaniko’s directory and environment', () => {
  it('--kaniko-dir (and KANIKO_DIR) reads credentials from <dir>/.docker, as Kaniko moves DOCKER_CONFIG there', async () => {
    const moved = await kanikoDir();
    const withFlag = await executor([`--destination=${basic.host}/app:flag`, `--kaniko-dir=${moved}`]);
    await withFlag.run;
    expect(await manifestStatus(basic, 'app', 'flag')).toBe(200);

    const withEnv = await executor([`--destination=${basic.host}/app:env`], { KANIKO_DIR: moved });
    await withEnv.run;
    expect(await manifestStatus(basic, 'app', 'env')).toBe(200);

    const without = await executor([`--destination=${basic.host}/app:none`]);
    await expect(without.run).rejects.toMatchObject({
      code: expect.stringMatching(/AUTH|DENIED|UNAUTHORIZED/),
    });
  });

  it('KANIKO_REGISTRY_MAP with --skip-default-registry-fallback pulls the base from the mapped registry only', async () => {
    const moved = await kanikoDir();
    await (await executor([`--destination=${basic.host}/mirror/base:1`, `--kaniko-dir=${moved}`])).run;
    const mapped = await executor(
      ['--no-push', '--skip-default-registry-fallback', `--kaniko-dir=${moved}`, '-v', 'warn'],
      { KANIKO_REGISTRY_MAP: `origin.invalid=${basic.host}/empty;origin.invalid=${basic.host}/mirror` },
      'FROM origin.invalid/base:1\nCOPY hello.txt /again.txt\n',
    );
    await mapped.run;
    expect(mapped.output.out).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect(mapped.output.err).toContain(`mirror ${basic.host}/empty failed`);

    const unmapped = await executor(
      [
        '--no-push',
        `--kaniko-dir=${moved}`,
        `--registry-map=origin.invalid=${basic.host}/elsewhere`,
        '--skip-default-registry-fallback',
      ],
      {},
      'FROM origin.invalid/base:1\n',
    );
    await expect(unmapped.run).rejects.toMatchObject({ code: 'MIRRORS_EXHAUSTED' });
  });

  it('KANIKO_NO_PUSH=true builds without a destination; --log-timestamp stamps every progress line', async () => {
    const { output, run } = await executor(['--log-timestamp'], { KANIKO_NO_PUSH: 'true' });
    await run;
    expect(output.out).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    const lines = output.err.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
  });

  it('GitLab’s CI_REGISTRY variables log in when no config.json names the registry', async () => {
    vi.stubEnv('CI_REGISTRY', basic.host);
    vi.stubEnv('CI_REGISTRY_USER', basic.username!);
    vi.stubEnv('CI_REGISTRY_PASSWORD', basic.password!);
    try {
      await (await executor([`--destination=${basic.host}/gitlab/app:1`])).run;
    } finally {
      vi.unstubAllEnvs();
    }
    expect(await manifestStatus(basic, 'gitlab/app', '1')).toBe(200);
  });

  it('--registry-client-cert pushes to a registry that requires mutual TLS', {
    timeout: 30_000,
  }, async () => {
    const tls = [`--registry-certificate=${mutual.host}=${mutual.caFile}`];
    // No retries: a refused handshake is retried like a reset otherwise (seconds of backoff).
    const refused = await executor([`--destination=${mutual.host}/app:1`, '--push-retry=0', ...tls]);
    await expect(refused.run).rejects.toMatchObject({ code: expect.stringMatching(/^REGISTRY_/) });
    const { run } = await executor([
      `--destination=${mutual.host}/app:1`,
      ...tls,
      `--registry-client-cert=${mutual.host}=${mutual.clientCertFile},${mutual.clientKeyFile}`,
    ]);
    await run;
  });
});
