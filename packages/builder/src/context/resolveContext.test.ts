import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveContext, resolveDockerfilePath } from './resolveContext.ts';

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

  it('refuses a tarball Kiln cannot read', async () => {
    await writeFile(join(dir, 'broken.tar.gz'), 'not a tarball');
    const error = await resolveContext(join(dir, 'broken.tar.gz'), join(dir, 'w4')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONTEXT_UNPACK_FAILED' });
  });

  it('reads tar://stdin and - from the stream it is given', async () => {
    for (const [text, work] of [
      ['tar://stdin', 'w5'],
      ['-', 'w6'],
    ] as const) {
      const unpacked = await resolveContext(text, join(dir, work), {
        stdin: createReadStream(join(dir, 'ctx.tar.gz')),
      });
      expect(await readFile(join(unpacked, 'sub/Dockerfile.dev'), 'utf8')).toBe('FROM scratch\n');
    }
  });

  it('stops a download at the size limit with CONTEXT_FETCH_FAILED', async () => {
    await expect(
      resolveContext('tar://stdin', join(dir, 'w7'), {
        stdin: createReadStream(join(dir, 'ctx.tar.gz')),
        maxBytes: 16,
      }),
    ).rejects.toMatchObject({ code: 'CONTEXT_FETCH_FAILED' });
  });

  it('takes --context-sub-path inside the context, never outside it', async () => {
    expect(await resolveContext(join(dir, 'ctx'), dir, { subPath: 'sub' })).toBe(join(dir, 'ctx/sub'));
    // `..` stops at the context's root, as in a chroot.
    expect(await resolveContext(join(dir, 'ctx'), dir, { subPath: '../../sub' })).toBe(join(dir, 'ctx/sub'));
    await expect(resolveContext(join(dir, 'ctx'), dir, { subPath: 'nope' })).rejects.toMatchObject({
      code: 'CONTEXT_NOT_FOUND',
    });
  });

  it('refuses missing contexts and unknown schemes', async () => {
    await expect(resolveContext(join(dir, 'nope'), dir)).rejects.toMatchObject({ code: 'CONTEXT_NOT_FOUND' });
    await expect(resolveContext('ftp://host/ctx.tar.gz', dir)).rejects.toMatchObject({
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

  it("resolves the context's own links inside the context, never to a host file", async () => {
    const ctx = join(dir, 'linked');
    await mkdir(join(ctx, 'sub'), { recursive: true });
    await writeFile(join(dir, 'host-secret'), 'host');
    await symlink(join(dir, 'host-secret'), join(ctx, 'Dockerfile'));
    await symlink('../../host-secret', join(ctx, 'sub', 'Dockerfile'));
    const refused = expect.objectContaining({ code: 'DOCKERFILE_NOT_FOUND' });
    expect(() => resolveDockerfilePath(undefined, ctx, '/')).toThrow(refused);
    expect(() => resolveDockerfilePath('Dockerfile', ctx, ctx)).toThrow(refused);
    expect(() => resolveDockerfilePath(join(ctx, 'Dockerfile'), ctx, '/')).toThrow(refused);
    expect(() => resolveDockerfilePath('sub/Dockerfile', ctx, '/')).toThrow(refused);
    // The same links followed inside the context, as a chroot would.
    await writeFile(join(ctx, 'host-secret'), 'FROM scratch\n');
    await mkdir(join(ctx, dir), { recursive: true });
    await writeFile(join(ctx, dir, 'host-secret'), 'FROM scratch\n');
    expect(resolveDockerfilePath(undefined, ctx, '/')).toBe(join(ctx, dir, 'host-secret'));
    expect(resolveDockerfilePath('sub/Dockerfile', ctx, '/')).toBe(join(ctx, 'host-secret'));
    // A path the user names outside the context is theirs, links and all.
    expect(resolveDockerfilePath(join(dir, 'host-secret'), ctx, '/')).toBe(join(dir, 'host-secret'));
  });
});
