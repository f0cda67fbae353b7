import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBusyboxImage, type PushedImage, runProcess } from '@kiln/fixtures/images';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKiln, skopeoInspect } from './kilnProcess.ts';

let registry: TestRegistry;
let authRegistry: TestRegistry;
let base: PushedImage;
let work: string;

beforeAll(async () => {
  [registry, authRegistry] = await Promise.all([
    startRegistry({ mode: 'plain' }),
    startRegistry({ mode: 'basic' }),
  ]);
  base = await ensureBusyboxImage(registry);
  work = await mkdtemp(join(tmpdir(), 'kiln-e2e-fail-'));
});
afterAll(async () => {
  await Promise.all([registry?.stop(), authRegistry?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

async function context(
  name: string,
  dockerfile: string,
  files: Record<string, string> = {},
): Promise<string> {
  const dir = join(work, name, 'context');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  for (const [path, content] of Object.entries(files)) await writeFile(join(dir, path), content);
  return dir;
}

/** Builds and expects failure: non-zero exit, one clear error line, nothing at the destination. */
async function expectFailure(
  name: string,
  dockerfile: string,
  extra: string[] = [],
  registryUnderTest = registry,
) {
  const destination = `${registryUnderTest.host}/fail/${name}:latest`;
  const result = await runKiln([
    'build',
    '--context',
    await context(name, dockerfile, { 'inside.txt': 'x' }),
    '--destination',
    destination,
    '--insecure-registry',
    registry.host,
    '--insecure-registry',
    authRegistry.host,
    '--build-arg',
    `BASE=${base.reference}`,
    ...extra,
  ]);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/^error: /m);
  expect(result.stderr).not.toContain('internal error');
  expect((await skopeoInspect(destination)).code).not.toBe(0);
  return result;
}

describe('kiln build failures', () => {
  it('a failing RUN exits with the command’s exit code, naming the line and the output', async () => {
    const result = await expectFailure(
      'run',
      'ARG BASE\nFROM $BASE\nRUN echo preparing\nRUN echo "it broke" >&2; exit 7\n',
    );
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('RUN at Dockerfile:4 failed with exit code 7');
    expect(result.stderr).toContain('it broke');
  });

  it('a missing base image', async () => {
    const result = await expectFailure('nobase', `FROM ${registry.host}/does/not-exist:1\nRUN true\n`);
    expect(result.stderr).toContain('does/not-exist');
  });

  it('bad credentials for the destination registry', async () => {
    const config = join(work, 'badcreds');
    await mkdir(config, { recursive: true });
    const auth = Buffer.from(`${authRegistry.username}:wrong-password`).toString('base64');
    await writeFile(
      join(config, 'config.json'),
      JSON.stringify({ auths: { [authRegistry.host]: { auth } } }),
    );
    const destination = `${authRegistry.host}/fail/creds:latest`;
    const result = await runKiln(
      [
        'build',
        '--context',
        await context('creds', 'ARG BASE\nFROM $BASE\nRUN echo hi > /hi\n'),
        '--destination',
        destination,
        '--insecure-registry',
        registry.host,
        '--insecure-registry',
        authRegistry.host,
        '--build-arg',
        `BASE=${base.reference}`,
      ],
      { DOCKER_CONFIG: config },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^error: .*(401|unauthori[sz]ed|denied|credentials)/im);
    expect(result.stderr).not.toContain('wrong-password');
    // Refused before any work, as Kaniko's push permission check does.
    expect(result.stderr).not.toContain('RUN echo hi');
    const pushed = await runProcess('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--creds',
      `${authRegistry.username}:${authRegistry.password}`,
      `docker://${destination}`,
    ]);
    expect(pushed.code).not.toBe(0);
  });

  it('a COPY source outside the context, or missing', async () => {
    const outside = await expectFailure('outside', 'ARG BASE\nFROM $BASE\nCOPY ../../etc/passwd /x\n');
    expect(outside.stderr).toContain('outside the build context');
    const missing = await expectFailure('missing', 'ARG BASE\nFROM $BASE\nCOPY nothere.txt /x\n');
    expect(missing.stderr).toContain('nothere.txt');
  });

  it('an unknown stage in COPY --from', async () => {
    const result = await expectFailure(
      'stage',
      'ARG BASE\nFROM $BASE AS one\nFROM $BASE\nCOPY --from=two /x /x\n',
    );
    expect(result.stderr).toContain('--from=two');
  });

  it('a malformed --build-arg fails before any work', async () => {
    const result = await expectFailure('buildarg', 'ARG BASE\nFROM $BASE\n', ['--build-arg', '=nothing']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--build-arg');
  });

  it('a 20,000-deep substitution or a huge line: one clear line naming the file and line, no stack', async () => {
    const nested = `${'$'}{a:-`.repeat(20_000);
    const deep = await expectFailure('deep', `ARG BASE\nFROM $BASE\nENV X=${nested}x${'}'.repeat(20_000)}\n`);
    expect(deep.code).toBe(1);
    expect(deep.stderr).toMatch(
      /^error: Dockerfile:3: ENV: variable substitutions nested more than 64 deep/m,
    );
    const huge = await expectFailure(
      'huge',
      `ARG BASE\nFROM $BASE\nBOGUS \u001b[2J${'z'.repeat(1_000_000)}\n`,
    );
    expect(huge.stderr).toMatch(/^error: Dockerfile:3: unknown instruction/m);
    for (const result of [deep, huge]) {
      const lines = result.stderr.split('\n').filter((line) => line.startsWith('error: '));
      expect(lines).toHaveLength(1);
      expect(lines[0]!.length).toBeLessThan(1000);
      expect(result.stderr).not.toMatch(/\n\s+at |RangeError|\u001b\[2J/);
    }
  });

  it('a wildcard the matcher cannot take exits 2 with one clear line', async () => {
    const result = await expectFailure(
      'wildcard',
      `ARG BASE\nFROM $BASE\nCOPY ${'w'.repeat(200_000)}* /x/\n`,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: Dockerfile:3: cannot expand the wildcard source/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
