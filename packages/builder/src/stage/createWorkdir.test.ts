import { lstat, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBuilder, type TestBuilder } from '../testing/testBuild.ts';
import { createWorkdir } from './createWorkdir.ts';

async function owner(path: string) {
  const info = await lstat(path);
  return { uid: info.uid, gid: info.gid, mode: info.mode & 0o7777 };
}

describe('createWorkdir', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'kiln-workdir-'));
    await mkdir(join(root, 'etc'));
    await mkdir(join(root, 'srv'), { mode: 0o700 });
    await writeFile(
      join(root, 'etc/passwd'),
      'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n',
    );
    await writeFile(join(root, 'etc/group'), 'root:x:0:\napp:x:1001:\nstaff:x:50:\n');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('gives the directories it creates, parents too, to the active user; existing ones keep theirs', async () => {
    expect(await createWorkdir(root, '/srv/home/app/work', 'app')).toEqual([
      '/srv/home',
      '/srv/home/app',
      '/srv/home/app/work',
    ]);
    for (const dir of ['srv/home', 'srv/home/app', 'srv/home/app/work']) {
      expect(await owner(join(root, dir))).toEqual({ uid: 1000, gid: 1001, mode: 0o755 });
    }
    expect(await owner(join(root, 'srv'))).toEqual({ uid: 0, gid: 0, mode: 0o700 });
    await createWorkdir(root, '/opt/numeric', '4242:staff');
    expect(await owner(join(root, 'opt/numeric'))).toEqual({ uid: 4242, gid: 50, mode: 0o755 });
    await createWorkdir(root, '/var/root-owned', '');
    expect(await owner(join(root, 'var/root-owned'))).toEqual({ uid: 0, gid: 0, mode: 0o755 });
    // Nothing to create: no passwd lookup, so an unknown user is no error here.
    expect(await createWorkdir(root, '/srv', 'ghost')).toEqual([]);
  });
});

describe('WORKDIR under USER in a build', () => {
  let builder: TestBuilder;
  beforeAll(async () => {
    builder = await createTestBuilder();
  });
  afterAll(() => builder.dispose());

  it('a RUN as the user can write in the WORKDIR made for it', { timeout: 60_000 }, async () => {
    const { tree } = await builder.build(
      'user-workdir',
      'FROM busybox\nUSER app\nWORKDIR /home/app/work\nRUN touch written && id -u > uid\n',
      {},
    );
    expect(await owner(join(tree, 'home/app'))).toEqual({ uid: 1000, gid: 1000, mode: 0o755 });
    expect(await owner(join(tree, 'home/app/work'))).toEqual({ uid: 1000, gid: 1000, mode: 0o755 });
    expect((await lstat(join(tree, 'home/app/work/written'))).uid).toBe(1000);
  });
});
