import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerExecutor, parseMountInfo } from './containerExecutor.ts';

// These tests never touch the machine's own `/`: the executor's root is a temp directory and
// its mounts come from a mountinfo file the test writes. The real thing runs in podman (test/).
const mountInfo = [
  '22 1 0:21 / / rw,relatime - overlay overlay rw',
  '23 22 0:22 / /proc rw,nosuid - proc proc rw',
  '24 22 0:23 / /dev rw,nosuid - tmpfs tmpfs rw',
  '25 22 8:1 /hosts /etc/hosts rw - ext4 /dev/vda rw',
  '26 22 8:1 /ctx /my\\040context rw - ext4 /dev/vda rw',
].join('\n');

let dir: string;
let root: string;
let mountInfoPath: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-container-executor-'));
  root = join(dir, 'root');
  mountInfoPath = join(dir, 'mountinfo');
  await writeFile(mountInfoPath, mountInfo);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(path: string, content = 'x'): Promise<void> {
  await mkdir(join(root, path, '..'), { recursive: true });
  await writeFile(join(root, path), content);
}

describe('parseMountInfo', () => {
  it('lists mount points with escapes decoded and / left out', () => {
    expect(parseMountInfo(mountInfo)).toEqual(['/proc', '/dev', '/etc/hosts', '/my context']);
  });
});

describe('ContainerExecutor', () => {
  it('ignores its own dirs, every mount, /var/run, its work dir and the paths it must keep', () => {
    const executor = new ContainerExecutor({
      workDir: join(root, 'kiln/work'),
      root,
      mountInfoPath,
      keepPaths: [join(root, 'workspace')],
    });
    expect(executor.ignoredPaths().map((rule) => rule.path)).toEqual([
      '/kiln',
      '/kaniko',
      '/busybox',
      '/kiln/work',
      '/var/run',
      '/proc',
      '/dev',
      '/etc/hosts',
      '/my context',
      '/workspace',
    ]);
  });

  it('--ignore-var-run=false: /var/run is snapshotted (and emptied) like any directory', async () => {
    await put('var/run/lock');
    const executor = new ContainerExecutor({
      workDir: join(root, 'kiln/work'),
      root,
      mountInfoPath,
      ignoreVarRun: false,
    });
    expect(executor.ignoredPaths().map((rule) => rule.path)).not.toContain('/var/run');
    await executor.prepareRoot({ index: 0, name: 'build' });
    expect(existsSync(join(root, 'var/run'))).toBe(false);
  });

  it('empties the root but keeps ignored paths and never follows symlinks out of it', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'precious'), 'keep me');
    await put('etc/passwd');
    await put('etc/hosts', '127.0.0.1 localhost');
    await put('kiln/node');
    await put('kaniko/.docker/config.json');
    await put('workspace/Dockerfile', 'FROM scratch');
    await put('usr/bin/tool');
    await put('var/run/lock');
    await put('var/lib/dpkg/status');
    await put('proc/self');
    await symlink(outside, join(root, 'lib'));

    const executor = new ContainerExecutor({
      workDir: '/kiln/work',
      root,
      mountInfoPath,
      keepPaths: ['/workspace'],
    });
    expect(await executor.prepareRoot({ index: 0, name: 'build' })).toBe(root);

    expect((await readdir(root)).sort()).toEqual(['etc', 'kaniko', 'kiln', 'proc', 'var', 'workspace']);
    expect(await readdir(join(root, 'etc'))).toEqual(['hosts']);
    expect(await readdir(join(root, 'var'))).toEqual(['run']);
    expect(existsSync(join(root, 'kiln/node'))).toBe(true);
    expect(existsSync(join(root, 'workspace/Dockerfile'))).toBe(true);
    expect(existsSync(join(outside, 'precious'))).toBe(true);
  });

  it('runs commands in place as the USER with supplementary groups, env and workdir', async () => {
    await mkdir(join(root, 'work'), { recursive: true });
    const executor = new ContainerExecutor({ workDir: '/kiln/work', root, mountInfoPath });
    const lines: string[] = [];
    const code = await executor.run(
      {
        root,
        argv: ['/bin/sh', '-c', 'id -u; id -g; id -G; pwd; echo "$GREETING"'],
        env: ['PATH=/usr/bin:/bin', 'GREETING=hi there'],
        cwd: '/work',
        user: { uid: 1234, gid: 1234, groups: [27, 1234] },
        network: 'host',
      },
      { onOutput: (line) => lines.push(line) },
    );
    expect(code).toBe(0);
    expect(lines[0]).toBe('1234');
    expect(lines[1]).toBe('1234');
    expect(lines[2]?.split(' ').sort()).toEqual(['1234', '27']);
    expect(lines[3]).toBe(join(root, 'work'));
    expect(lines[4]).toBe('hi there');
  });

  it("passes a command's exit code through, also without supplementary groups", async () => {
    const executor = new ContainerExecutor({ workDir: '/kiln/work', root: dir, mountInfoPath });
    const code = await executor.run({
      root: dir,
      argv: ['sh', '-c', 'test "$(id -u)" = 4321 && exit 7'],
      env: ['PATH=/usr/bin:/bin'],
      cwd: '/',
      user: { uid: 4321, gid: 4321, groups: [] },
      network: 'host',
    });
    expect(code).toBe(7);
  });

  it('puts mounts in place for the command and takes them back when it fails, leaving the root as it was', async () => {
    await put('root/.cache/from-image', 'image');
    await put('tmp/t', 'image tmp');
    const cache = join(dir, 'cache');
    await mkdir(cache);
    await writeFile(join(cache, 'old'), 'cached');
    const listing = async () =>
      (await readdir(root, { recursive: true }))
        .map((path) => path.toString())
        .filter((path) => !path.startsWith('kiln'))
        .sort();
    const before = await listing();
    const executor = new ContainerExecutor({ workDir: join(root, 'kiln/work'), root, mountInfoPath });
    // The command runs on this host in these tests: it reaches the root through $R.
    const code = await executor.run({
      root,
      argv: [
        'sh',
        '-c',
        'ls "$R/root/.cache" > "$R/../seen"; ls -A "$R/tmp" >> "$R/../seen"; echo new > "$R/root/.cache/new"; echo x > "$R/tmp/x"; exit 3',
      ],
      env: ['PATH=/usr/bin:/bin', `R=${root}`],
      cwd: '/',
      user: { uid: 0, gid: 0, groups: [] },
      network: 'host',
      mounts: [
        { kind: 'bind', source: cache, target: '/root/.cache', readonly: false, cache: 'locked' },
        { kind: 'tmpfs', target: '/tmp' },
      ],
    });
    expect(code).toBe(3);
    expect(await readFile(join(dir, 'seen'), 'utf8')).toBe('old\n');
    expect(await listing()).toEqual(before);
    expect(await readFile(join(root, 'tmp/t'), 'utf8')).toBe('image tmp');
    expect((await readdir(cache)).sort()).toEqual(['new', 'old']);
  });
});
