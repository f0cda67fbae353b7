import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBuildArgs, parseLabels } from './buildArgs.ts';
import { resolveContext, resolveDockerfilePath } from './buildContext.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-context-'));
  await mkdir(join(dir, 'ctx/sub'), { recursive: true });
  await writeFile(join(dir, 'ctx/Dockerfile'), 'FROM scratch\n');
  await writeFile(join(dir, 'ctx/sub/Dockerfile.dev'), 'FROM scratch\n');
  spawnSync('tar', ['-czf', join(dir, 'ctx.tar.gz'), '-C', join(dir, 'ctx'), '.']);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveContext', () => {
  it('uses directories in place (dir:// or plain) and unpacks tarballs into the work dir', async () => {
    expect(await resolveContext(join(dir, 'ctx'), join(dir, 'w1'))).toBe(join(dir, 'ctx'));
    expect(await resolveContext(`dir://${join(dir, 'ctx')}`, join(dir, 'w1'))).toBe(join(dir, 'ctx'));
    const unpacked = await resolveContext(`tar://${join(dir, 'ctx.tar.gz')}`, join(dir, 'w2'));
    expect(unpacked).toBe(join(dir, 'w2', 'context'));
    expect(await readFile(join(unpacked, 'sub/Dockerfile.dev'), 'utf8')).toBe('FROM scratch\n');
    expect(await resolveContext(join(dir, 'ctx.tar.gz'), join(dir, 'w3'))).toBe(join(dir, 'w3', 'context'));
  });

  it('refuses a tarball tar cannot read, with what tar said', async () => {
    await writeFile(join(dir, 'broken.tar.gz'), 'not a tarball');
    const error = await resolveContext(join(dir, 'broken.tar.gz'), join(dir, 'w4')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONTEXT_UNPACK_FAILED' });
    expect((error as Error).message).toMatch(/tar: /);
  });

  it('refuses missing contexts and remote schemes', async () => {
    await expect(resolveContext(join(dir, 'nope'), dir)).rejects.toMatchObject({ code: 'CONTEXT_NOT_FOUND' });
    await expect(resolveContext('s3://bucket/ctx.tar.gz', dir)).rejects.toMatchObject({
      code: 'UNSUPPORTED_CONTEXT',
    });
  });
});

describe('resolveDockerfilePath', () => {
  it('defaults to <context>/Dockerfile; a relative path is tried in cwd first, then the context', () => {
    const ctx = join(dir, 'ctx');
    expect(resolveDockerfilePath(undefined, ctx)).toBe(join(ctx, 'Dockerfile'));
    expect(resolveDockerfilePath('sub/Dockerfile.dev', ctx, dir)).toBe(join(ctx, 'sub/Dockerfile.dev'));
    expect(resolveDockerfilePath('ctx/Dockerfile', '/elsewhere', dir)).toBe(join(dir, 'ctx/Dockerfile'));
    expect(resolveDockerfilePath('/abs/Dockerfile', ctx, dir)).toBe('/abs/Dockerfile');
  });
});

describe('build flags', () => {
  it('parses --build-arg K=V and K (from the environment), refusing bad names', () => {
    const args = parseBuildArgs(['A=1', 'B=x=y', 'FROM_ENV', 'UNSET'], { FROM_ENV: 'env' });
    expect([...args]).toEqual([
      ['A', '1'],
      ['B', 'x=y'],
      ['FROM_ENV', 'env'],
    ]);
    expect(() => parseBuildArgs(['=1'])).toThrow(
      expect.objectContaining({ code: 'INVALID_BUILD_ARG', exitCode: 2 }),
    );
    expect(() => parseBuildArgs(['1A=1'])).toThrow(expect.objectContaining({ code: 'INVALID_BUILD_ARG' }));
  });

  it('parses --label k=v', () => {
    expect(parseLabels(['a=1', 'b.c=x=y'])).toEqual({ a: '1', 'b.c': 'x=y' });
    expect(() => parseLabels(['novalue'])).toThrow(expect.objectContaining({ code: 'INVALID_LABEL' }));
  });
});
