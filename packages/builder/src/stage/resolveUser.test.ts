import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBuilder } from '../testing/testBuild.ts';
import { resolveUser } from './resolveUser.ts';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kiln-user-'));
  await mkdir(join(root, 'etc'));
  await writeFile(
    join(root, 'etc/passwd'),
    'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n',
  );
  await writeFile(
    join(root, 'etc/group'),
    'root:x:0:\napp:x:1000:\nstaff:x:50:app,other\nwheel:x:10:other\n',
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resolveUser', () => {
  it('resolves names to ids with supplementary groups', async () => {
    expect(await resolveUser(root, 'app')).toEqual({ uid: 1000, gid: 1000, groups: [50] });
    expect(await resolveUser(root, '')).toEqual({ uid: 0, gid: 0, groups: [] });
  });

  it('takes numeric ids whether or not they exist, and explicit groups by name or id', async () => {
    expect(await resolveUser(root, '1000')).toEqual({ uid: 1000, gid: 1000, groups: [50] });
    expect(await resolveUser(root, '4242')).toEqual({ uid: 4242, gid: 0, groups: [] });
    expect(await resolveUser(root, 'app:wheel')).toEqual({ uid: 1000, gid: 10, groups: [] });
    expect(await resolveUser(root, '7:8')).toEqual({ uid: 7, gid: 8, groups: [] });
  });

  it('needs no /etc/passwd for no USER, root, a numeric uid or uid:gid (a scratch image)', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'kiln-user-scratch-'));
    try {
      expect(await resolveUser(scratch, '')).toEqual({ uid: 0, gid: 0, groups: [] });
      expect(await resolveUser(scratch, 'root')).toEqual({ uid: 0, gid: 0, groups: [] });
      expect(await resolveUser(scratch, '0')).toEqual({ uid: 0, gid: 0, groups: [] });
      expect(await resolveUser(scratch, '1000:1000')).toEqual({ uid: 1000, gid: 1000, groups: [] });
      expect(await resolveUser(scratch, 'root:root')).toEqual({ uid: 0, gid: 0, groups: [] });
      await expect(resolveUser(scratch, 'app')).rejects.toMatchObject({ code: 'UNKNOWN_USER' });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('refuses unknown names', async () => {
    await expect(resolveUser(root, 'ghost')).rejects.toMatchObject({ code: 'UNKNOWN_USER' });
    await expect(resolveUser(root, 'app:ghosts')).rejects.toMatchObject({ code: 'UNKNOWN_GROUP' });
  });

  it('reads /etc/passwd through a symlink without leaving the root', async () => {
    const other = await mkdtemp(join(tmpdir(), 'kiln-user-link-'));
    try {
      await mkdir(join(other, 'etc'));
      const { symlink } = await import('node:fs/promises');
      // In the image this points at the image's own /etc/passwd-real, never the host's.
      await symlink('/etc/passwd-real', join(other, 'etc/passwd'));
      await writeFile(join(other, 'etc/passwd-real'), 'svc:x:77:77::/:/bin/false\n');
      expect(await resolveUser(other, 'svc')).toEqual({ uid: 77, gid: 77, groups: [] });
      await expect(resolveUser(other, 'root')).rejects.toMatchObject({ code: 'UNKNOWN_USER' });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('FROM scratch with a static binary', () => {
  it('RUN works as 0:0 without an /etc/passwd, as Docker runs it', { timeout: 60_000 }, async () => {
    const builder = await createTestBuilder();
    try {
      const { tree } = await builder.build(
        'scratch-run',
        [
          'FROM busybox AS tools',
          'FROM scratch',
          'COPY --from=tools /bin/busybox /busybox',
          'RUN ["/busybox", "sh", "-c", "/busybox id -u > /uid"]',
          'USER 0:0',
          'RUN ["/busybox", "sh", "-c", "/busybox id -g > /gid"]',
          '',
        ].join('\n'),
        {},
      );
      expect(await readFile(join(tree, 'uid'), 'utf8')).toBe('0\n');
      expect(await readFile(join(tree, 'gid'), 'utf8')).toBe('0\n');
    } finally {
      await builder.dispose();
    }
  });
});
