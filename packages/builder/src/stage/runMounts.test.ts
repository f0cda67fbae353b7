import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mount } from '@kiln/dockerfile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuildSecrets } from '../secrets/buildSecrets.ts';
import { cacheMountName, type RunMountContext, resolveRunMounts } from './runMounts.ts';

let base: string;
let context: Omit<RunMountContext, 'isIgnored'> & { isIgnored: RunMountContext['isIgnored'] };

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-mounts-'));
  const contextDir = join(base, 'context');
  await mkdir(join(contextDir, 'src'), { recursive: true });
  await writeFile(join(contextDir, '.env'), 'SECRET=1');
  await writeFile(join(contextDir, 'src', 'app.js'), 'app');
  await writeFile(join(contextDir, 'src', 'key.pem'), 'KEY');
  await symlink('/etc', join(contextDir, 'hostlink'));
  context = {
    where: 'Dockerfile:3',
    cwd: '/',
    expand: (word) => word,
    cacheMountDir: join(base, 'cache', 'run-mounts'),
    scratchDir: join(base, 'scratch'),
    sourceRoot: async () => contextDir,
    isIgnored: (path) => path === '.env' || path.endsWith('.pem'),
  };
});

afterEach(() => rm(base, { recursive: true, force: true }));

const bind = (extra: Partial<Mount> = {}): Mount =>
  ({ type: 'bind', target: '/ctx', readonly: true, ...extra }) as Mount;

describe('cache mount ids', () => {
  it('map every id to one name that cannot climb', () => {
    for (const id of ['..', '../..', '/', '.', '', '../../blobs', 'a/../../b', 'x'.repeat(5000)]) {
      const name = cacheMountName(id, 'Dockerfile:1');
      expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*-[0-9a-f]{16}$/);
      expect(name.length).toBeLessThan(80);
    }
    expect(cacheMountName('go-build', 'x')).not.toBe(cacheMountName('go_build', 'x'));
  });

  it('refuses NUL naming the Dockerfile line', async () => {
    const mount = { type: 'cache', target: '/c', id: 'a\0b' } as Mount;
    await expect(resolveRunMounts([mount], context)).rejects.toMatchObject({ code: 'INVALID_MOUNT' });
  });

  it('keeps `id=..` inside the cache-mount dir', async () => {
    const [mount] = (await resolveRunMounts([{ type: 'cache', target: '/c', id: '..' } as Mount], context))
      .mounts;
    expect(mount?.kind === 'bind' && mount.source.startsWith(`${context.cacheMountDir}/`)).toBe(true);
    expect(await readdir(join(base, 'cache'))).toEqual(['run-mounts']);
  });
});

describe('context bind mounts', () => {
  it('expose only the .dockerignore-filtered context', async () => {
    const [mount] = (await resolveRunMounts([bind()], context)).mounts;
    const source = mount?.kind === 'bind' ? mount.source : '';
    expect(source.startsWith(context.scratchDir)).toBe(true);
    expect((await readdir(source)).sort()).toEqual(['hostlink', 'src']);
    expect(await readdir(join(source, 'src'))).toEqual(['app.js']);
  });

  it('refuse an ignored file as a source, and resolve links inside the context', async () => {
    await expect(resolveRunMounts([bind({ source: '.env' })], context)).rejects.toMatchObject({
      code: 'MOUNT_SOURCE_MISSING',
    });
    await expect(resolveRunMounts([bind({ source: 'hostlink/passwd' })], context)).rejects.toMatchObject({
      code: 'MOUNT_SOURCE_MISSING',
    });
  });

  it('bind a directory without ignored files in place, read-only', async () => {
    context.isIgnored = () => false;
    const [mount] = (await resolveRunMounts([bind({ source: 'src' })], context)).mounts;
    expect(mount).toMatchObject({ source: join(base, 'context', 'src'), readonly: true });
  });

  it('resolve a stage source= inside that stage root', async () => {
    const stageRoot = join(base, 'stage');
    await mkdir(join(stageRoot, 'opt'), { recursive: true });
    await writeFile(join(stageRoot, 'opt', 'tool'), 'tool');
    await symlink('../../../../../..', join(stageRoot, 'up'));
    await symlink(base, join(stageRoot, 'host'));
    context.sourceRoot = async (from) => (from === 'st' ? stageRoot : join(base, 'context'));
    const [up] = (await resolveRunMounts([bind({ from: 'st', source: 'up/opt/tool' })], context)).mounts;
    expect(up).toMatchObject({ source: join(stageRoot, 'opt', 'tool') });
    await expect(
      resolveRunMounts([bind({ from: 'st', source: 'host/context/.env' })], context),
    ).rejects.toMatchObject({ code: 'MOUNT_SOURCE_MISSING' });
  });

  it('make a rw bind a throwaway copy', async () => {
    context.isIgnored = () => false;
    const [mount] = (await resolveRunMounts([bind({ source: 'src', readonly: false })], context)).mounts;
    const source = mount?.kind === 'bind' ? mount.source : '';
    expect(source.startsWith(context.scratchDir)).toBe(true);
    await writeFile(join(source, 'app.js'), 'changed');
    expect(await readFile(join(base, 'context', 'src', 'app.js'), 'utf8')).toBe('app');
  });
});

describe('cache mounts seeded from= and source=', () => {
  it('a new cache starts as a copy of the source dir (context without ignored files); an existing one is kept', async () => {
    const cache = {
      type: 'cache',
      target: '/c',
      id: 'seeded',
      source: 'src',
      sharing: 'shared',
      readonly: false,
    };
    const resolved = await resolveRunMounts([cache as Mount], context);
    const dir = (resolved.mounts[0] as { source: string }).source;
    expect((await readdir(dir)).sort()).toEqual(['app.js']);
    await writeFile(join(dir, 'app.js'), 'changed by a RUN');
    await resolved.release();
    const again = await resolveRunMounts([cache as Mount], context);
    expect(await readFile(join((again.mounts[0] as { source: string }).source, 'app.js'), 'utf8')).toBe(
      'changed by a RUN',
    );
  });

  it('from= a stage copies that stage’s dir', async () => {
    const stage = join(base, 'stage');
    await mkdir(join(stage, 'opt', 'deps'), { recursive: true });
    await writeFile(join(stage, 'opt', 'deps', 'lib'), 'dep');
    const fromStage = { ...context, sourceRoot: async (from: string | undefined) => (from ? stage : base) };
    const cache = {
      type: 'cache',
      target: '/c',
      from: 'deps',
      source: '/opt/deps',
      sharing: 'locked',
      readonly: false,
    };
    const resolved = await resolveRunMounts([cache as Mount], fromStage);
    expect(await readFile(join((resolved.mounts[0] as { source: string }).source, 'lib'), 'utf8')).toBe(
      'dep',
    );
    await resolved.release();
  });
});

describe('secret mounts', () => {
  it('a file outside the root (default /run/secrets/<id>, 0400) and/or env; gone after release', async () => {
    const secrets = new BuildSecrets([{ id: 'tok', value: 's3cret' }]);
    const resolved = await resolveRunMounts(
      [
        { type: 'secret', id: 'tok', required: false } as Mount,
        { type: 'secret', id: 'tok', env: 'TOKEN', required: false } as Mount,
        { type: 'secret', id: 'missing', required: false } as Mount,
      ],
      { ...context, secrets },
    );
    expect(resolved.mounts).toHaveLength(1);
    const mount = resolved.mounts[0] as { source: string; target: string; readonly: boolean };
    expect(mount.target).toBe('/run/secrets/tok');
    expect(mount.readonly).toBe(true);
    expect(mount.source.startsWith(context.scratchDir)).toBe(true);
    expect(await readFile(mount.source, 'utf8')).toBe('s3cret');
    expect(resolved.env).toEqual(['TOKEN=s3cret']);
    await resolved.release();
    expect(await readdir(context.scratchDir)).toEqual([]);
    await expect(
      resolveRunMounts([{ type: 'secret', id: 'missing', required: true } as Mount], { ...context, secrets }),
    ).rejects.toMatchObject({ code: 'SECRET_MISSING' });
  });
});
