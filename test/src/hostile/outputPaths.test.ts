import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import { runProcess } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runChecked, runKiln } from '../kilnProcess.ts';
import { startHostileEnvironment, stopHostileEnvironment } from './hostileEnvironment.ts';
import type { SentinelTree } from './sentinelTree.ts';

let registry: TestRegistry;
let base: PushedImage;
let work: string;
let sentinel: SentinelTree;

beforeAll(async () => {
  ({ registry, base, work, sentinel } = await startHostileEnvironment('kiln-e2e-outputs-', {
    sentinelInWork: true,
  }));
});
afterAll(() => stopHostileEnvironment({ registry, work, sentinel }));

async function context(name: string): Promise<string> {
  const dir = join(work, name, 'context');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), 'ARG BASE=scratch\nFROM $BASE\nENV BUILT=1\n');
  return dir;
}

/** A build of the busybox base with the output flags given. */
function build(name: string, dir: string, flags: string[], baseReference = base.reference) {
  return runKiln([
    'build',
    '--context',
    dir,
    '--no-push',
    '--kiln-dir',
    join(work, name, 'kiln'),
    '--insecure-registry',
    registry.host,
    '--build-arg',
    `BASE=${baseReference}`,
    ...flags,
  ]);
}

/** The names in a docker-archive tar. */
async function tarNames(path: string): Promise<string[]> {
  return (await runChecked('tar', ['-tf', path])).split('\n').filter((line) => line !== '');
}

/** No registry listens on port 9: a build that tries to pull fails with a registry error, not exit 2. */
const unreachableBase = '127.0.0.1:9/nothing/here:1';

describe('kiln build output paths', () => {
  it('--tar-path at a fifo is written through: a concurrent reader gets the whole archive', async () => {
    const fifo = join(work, 'fifo', 'image.tar');
    const dir = await context('fifo');
    await runChecked('mkfifo', [fifo]);
    const chunks: Buffer[] = [];
    const read = new Promise<void>((resolve, reject) => {
      createReadStream(fifo)
        .on('data', (chunk) => chunks.push(chunk as Buffer))
        .on('end', resolve)
        .on('error', reject);
    });
    const result = await build('fifo', dir, ['--tar-path', fifo]);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    await read;
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    const copy = join(work, 'fifo', 'read.tar');
    await writeFile(copy, Buffer.concat(chunks));
    expect(await tarNames(copy)).toContain('manifest.json');
  });

  // A device node of the test's own (the null device, 1:3) and a link to it, like /dev/stdout: the
  // host's /dev/null is never put at risk should the fix regress.
  it('--tar-path at a null device and --digest-file at a link to it leave both in place', async () => {
    const dir = await context('devnull');
    const device = join(work, 'devnull', 'null');
    const link = join(work, 'devnull', 'stdout');
    await runChecked('mknod', ['-m', '666', device, 'c', '1', '3']);
    await symlink(device, link);
    const result = await build('devnull', dir, ['--tar-path', device, '--digest-file', link]);
    expect(result.code).toBe(0);
    const info = await lstat(device);
    expect(info.isCharacterDevice()).toBe(true);
    expect(info.rdev).toBe(0x103);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
  });

  it('--digest-file /dev/stdout into a pipe prints the digest', async () => {
    const dir = await context('stdout');
    // Node's own child pipes are sockets, which no open() reaches: a shell pipe gives Kiln a real one.
    const command = [process.execPath, join(repoRoot, 'packages/cli/src/main.ts'), 'build', '--context', dir]
      .concat(['--no-push', '--kiln-dir', join(work, 'stdout', 'kiln'), '--digest-file', '/dev/stdout'])
      .map((word) => `'${word}'`)
      .join(' ');
    const result = await runProcess('sh', ['-c', `${command} | cat`], { env: { ...process.env, CI: '1' } });
    expect(result.stdout).toMatch(/^sha256:[0-9a-f]{64}/);
    expect((await lstat('/dev/stdout')).isSymbolicLink()).toBe(true);
  });

  it('a symlink at --tar-path is written through to its target and stays a link', async () => {
    const dir = await context('link');
    const target = join(work, 'link', 'real.tar');
    const link = join(work, 'link', 'image.tar');
    await writeFile(target, 'old contents');
    await symlink(target, link);
    const digestTarget = join(work, 'link', 'digest.real');
    const digestLink = join(work, 'link', 'digest');
    await symlink(digestTarget, digestLink);
    await writeFile(digestTarget, 'old');
    const result = await build('link', dir, ['--tar-path', link, '--digest-file', digestLink]);
    expect(result.code).toBe(0);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(target);
    expect(await tarNames(target)).toContain('manifest.json');
    expect((await lstat(digestLink)).isSymbolicLink()).toBe(true);
    expect(await readFile(digestTarget, 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('a regular file at --digest-file is replaced atomically, mode kept, no temp file left beside it', async () => {
    const dir = await context('regular');
    const file = join(work, 'regular', 'digest');
    await writeFile(file, 'old', { mode: 0o640 });
    const before = await stat(file);
    const result = await build('regular', dir, ['--digest-file', file]);
    expect(result.code).toBe(0);
    expect(await readFile(file, 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
    const after = await stat(file);
    // Replaced by rename (a new inode), keeping the old file's mode.
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o640);
    const names = (await runChecked('ls', ['-A', join(work, 'regular')])).split('\n').filter(Boolean);
    expect(names.sort()).toEqual(['context', 'digest', 'kiln']);
  });

  const refused: Array<[string, (dir: string) => Promise<string[]>]> = [
    ['--tar-path in a missing directory', async () => ['--tar-path', join(sentinel.dir, 'missing', 'x.tar')]],
    ['--tar-path that is a directory', async () => ['--tar-path', join(sentinel.dir, 'nested')]],
    ['--digest-file that is a directory', async () => ['--digest-file', sentinel.dir]],
    [
      '--image-name-with-digest-file in a missing directory',
      async () => ['--image-name-with-digest-file', join(sentinel.dir, 'nope', 'f')],
    ],
    [
      '--image-name-tag-with-digest-file under a file',
      async () => ['--image-name-tag-with-digest-file', join(sentinel.dir, 'plain.txt', 'f')],
    ],
    ['--oci-layout-path that is a file', async () => ['--oci-layout-path', join(sentinel.dir, 'plain.txt')]],
    [
      '--oci-layout-path under a file',
      async () => ['--oci-layout-path', join(sentinel.dir, 'plain.txt', 'a', 'b')],
    ],
    ['--trace in a missing directory', async () => ['--trace', join(sentinel.dir, 'gone', 'trace.json')]],
    [
      '--tar-path that is a dangling symlink',
      async (dir) => {
        const link = join(dir, '..', 'dangling.tar');
        await symlink(join(sentinel.dir, 'absent'), link);
        return ['--tar-path', link];
      },
    ],
  ];
  for (const [name, flags] of refused) {
    it(`${name}: exit 2 before any pull, one line, nothing outside changed`, async () => {
      const slug = name.replace(/[^a-z]+/g, '-');
      const dir = await context(slug);
      const before = await sentinel.fingerprint();
      const started = Date.now();
      // The base is unreachable: a check made after the pull would fail with a registry error instead.
      const result = await build(slug, dir, await flags(dir), unreachableBase);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^error: --[a-z-]+ \/\S+: .+$/m);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(
        result.stderr
          .trim()
          .split('\n')
          .filter((line) => !line.startsWith('  hint:')),
      ).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(await sentinel.fingerprint()).toBe(before);
    });
  }

  // The full device (1:7) fails every write with ENOSPC, after the up-front check has passed.
  it('a --trace write that fails never hides a failing RUN’s exit code, and cleans up first', async () => {
    const dir = join(work, 'trace', 'context');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), 'ARG BASE\nFROM $BASE\nRUN exit 7\n');
    const full = join(work, 'trace', 'full');
    await runChecked('mknod', ['-m', '666', full, 'c', '1', '7']);
    const failing = await build('trace', dir, ['--trace', full]);
    expect(failing.code).toBe(7);
    expect(failing.stderr).toMatch(/^warning: --trace .*full: cannot write \(ENOSPC\)$/m);
    expect(await readdir(join(work, 'trace', 'kiln'))).toEqual([]);

    await writeFile(join(dir, 'Dockerfile'), 'ARG BASE\nFROM $BASE\nENV OK=1\n');
    const succeeding = await build('trace', dir, ['--trace', full]);
    expect(succeeding.code).toBe(1);
    expect(succeeding.stderr).toMatch(/^error: --trace .*full: cannot write \(ENOSPC\)$/m);
    expect(await readdir(join(work, 'trace', 'kiln'))).toEqual([]);
  });

  it('the oci layout path may be an existing directory', async () => {
    const dir = await context('layout');
    const layout = join(work, 'layout', 'out');
    await mkdir(layout);
    const result = await build('layout', dir, ['--oci-layout-path', layout]);
    expect(result.code).toBe(0);
    expect((await stat(join(layout, 'index.json'))).isFile()).toBe(true);
  });
});
