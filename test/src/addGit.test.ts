import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startGitHttpServer } from './contextServers.ts';
import { runChecked, runKiln } from './kilnProcess.ts';

/**
 * ADD of a git source (`http://HOST/repo.git#ref:subdir`) fetched from Debian's `git http-backend`
 * through the CLI, and the image's tree unpacked to see what it holds.
 */

let work: string;
let server: LocalServer;
let repoWork: string;
let mainCommit: string;
const git = (cwd: string, ...args: string[]) =>
  execFileSync(
    'git',
    ['-c', 'user.name=kiln', '-c', 'user.email=kiln@test', '-c', 'init.defaultBranch=main', ...args],
    { cwd, encoding: 'utf8' },
  ).trim();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kiln-e2e-addgit-'));
  const root = join(work, 'git');
  repoWork = join(root, 'repo-work');
  await mkdir(join(repoWork, 'sub/deep'), { recursive: true });
  await writeFile(join(repoWork, 'top.txt'), 'main top');
  await writeFile(join(repoWork, 'sub/a.txt'), 'main a');
  git(repoWork, 'init', '-q');
  git(repoWork, 'add', '.');
  git(repoWork, 'commit', '-qm', 'main');
  git(repoWork, 'tag', '-a', 'v1', '-m', 'v1');
  mainCommit = git(repoWork, 'rev-parse', 'HEAD');
  git(repoWork, 'checkout', '-qb', 'feature');
  await writeFile(join(repoWork, 'sub/a.txt'), 'feature a');
  await writeFile(join(repoWork, 'sub/deep/b.txt'), 'feature b');
  git(repoWork, 'add', '.');
  git(repoWork, 'commit', '-qm', 'feature');
  // The bare repository's HEAD follows the working one's: main, the remote's default branch.
  git(repoWork, 'checkout', '-q', 'main');
  git(root, 'clone', '-q', '--bare', repoWork, 'repo.git');
  server = await startGitHttpServer(root);
}, 60_000);
afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

let builds = 0;
async function build(dockerfile: string, cacheDir?: string) {
  const out = join(work, `out-${builds++}`);
  await mkdir(join(out, 'ctx'), { recursive: true });
  await writeFile(join(out, 'ctx/Dockerfile'), dockerfile);
  const tarPath = join(out, 'image.tar');
  const result = await runKiln([
    'build',
    '--context',
    join(out, 'ctx'),
    '--no-push',
    '--tar-path',
    tarPath,
    '--log-format',
    'json',
    ...(cacheDir ? ['--cache', '--cache-dir', cacheDir] : []),
  ]);
  const events = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { type?: string; code?: string; message?: string });
  return {
    ...result,
    out,
    tarPath,
    error: events.find((event) => event.type === 'error'),
    cached: events.filter((event) => event.type === 'step-cached').length,
  };
}

async function unpack(tarPath: string, out: string): Promise<string> {
  const layout = join(out, 'layout');
  const rootfs = join(out, 'rootfs');
  await runChecked('skopeo', ['copy', `docker-archive:${tarPath}`, `oci:${layout}:img`]);
  await runChecked('umoci', ['raw', 'unpack', '--image', `${layout}:img`, rootfs]);
  return rootfs;
}

describe('ADD of a git source', () => {
  it('puts the subdir of the branch in the destination, owned by root, without .git', {
    timeout: 120_000,
  }, async () => {
    const built = await build(`FROM scratch\nADD ${server.url}/repo.git#feature:sub /dst\n`);
    expect(built.code, built.stderr + built.stdout).toBe(0);
    const rootfs = await unpack(built.tarPath, built.out);
    expect((await readdir(join(rootfs, 'dst'))).sort()).toEqual(['a.txt', 'deep']);
    expect(await readFile(join(rootfs, 'dst/a.txt'), 'utf8')).toBe('feature a');
    expect(await readFile(join(rootfs, 'dst/deep/b.txt'), 'utf8')).toBe('feature b');
    const info = await stat(join(rootfs, 'dst/deep/b.txt'));
    expect([info.uid, info.gid, info.mode & 0o777]).toEqual([0, 0, 0o644]);

    const whole = await build(`FROM scratch\nADD ${server.url}/repo.git /all/\n`);
    expect(whole.code, whole.stderr + whole.stdout).toBe(0);
    const all = await unpack(whole.tarPath, whole.out);
    expect((await readdir(join(all, 'all'))).sort()).toEqual(['sub', 'top.txt']);
    expect(await readFile(join(all, 'all/sub/a.txt'), 'utf8')).toBe('main a');
  });

  it('takes an annotated tag and a full commit hash as the ref', { timeout: 120_000 }, async () => {
    const built = await build(
      `FROM scratch\nADD ${server.url}/repo.git#v1 /tag/\nADD ${server.url}/repo.git#${mainCommit}:sub /commit\n`,
    );
    expect(built.code, built.stderr + built.stdout).toBe(0);
    const rootfs = await unpack(built.tarPath, built.out);
    expect((await readdir(join(rootfs, 'tag'))).sort()).toEqual(['sub', 'top.txt']);
    expect(await readFile(join(rootfs, 'tag/sub/a.txt'), 'utf8')).toBe('main a');
    expect(await readdir(join(rootfs, 'commit'))).toEqual(['a.txt']);
    expect(await readFile(join(rootfs, 'commit/a.txt'), 'utf8')).toBe('main a');
  });

  it('applies --exclude and checks --checksum against the commit', { timeout: 120_000 }, async () => {
    const built = await build(
      `FROM scratch\nADD --exclude=deep ${server.url}/repo.git#feature:sub /ex\nADD --checksum=${mainCommit} ${server.url}/repo.git#v1 /sum\n`,
    );
    expect(built.code, built.stderr + built.stdout).toBe(0);
    const rootfs = await unpack(built.tarPath, built.out);
    expect(await readdir(join(rootfs, 'ex'))).toEqual(['a.txt']);
    expect((await readdir(join(rootfs, 'sum'))).sort()).toEqual(['sub', 'top.txt']);
    const wrong = await build(
      `FROM scratch\nADD --checksum=${'0'.repeat(40)} ${server.url}/repo.git#v1 /sum\n`,
    );
    expect(wrong.code).toBe(2);
    expect(wrong.error?.code).toBe('ADD_CHECKSUM_MISMATCH');
  });

  it('fails with a one-line error naming the line when the ref does not exist', {
    timeout: 120_000,
  }, async () => {
    const built = await build(`FROM scratch\nADD ${server.url}/repo.git#no-such-branch /dst\n`);
    expect(built.code).toBe(2);
    expect(built.error?.code).toBe('ADD_GIT_FAILED');
    expect(built.error?.message).toContain('Dockerfile:2');
    expect(built.error?.message).not.toContain('\n');
  });

  it('keys the cache on the commit: the same commit hits, a new one re-runs', {
    timeout: 180_000,
  }, async () => {
    const cacheDir = join(work, 'cache');
    const dockerfile = `FROM scratch\nADD ${server.url}/repo.git#main /dst\n`;
    const first = await build(dockerfile, cacheDir);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.cached).toBe(0);
    const packsBefore = server.requests.filter(
      (request) => request.startsWith('POST ') && request.includes('git-upload-pack'),
    ).length;
    const again = await build(dockerfile, cacheDir);
    expect(again.cached).toBe(1);
    // The hit asked the server for its refs only: no pack was fetched (a POST to git-upload-pack is the fetch).
    expect(
      server.requests.filter((request) => request.startsWith('POST ') && request.includes('git-upload-pack'))
        .length,
    ).toBe(packsBefore);
    // A new commit with the same tree: BuildKit keys a git source on its commit, so it re-runs.
    git(repoWork, 'commit', '-q', '--allow-empty', '-m', 'empty');
    git(repoWork, 'push', '-q', join(work, 'git/repo.git'), 'main');
    const moved = await build(dockerfile, cacheDir);
    expect(moved.code, moved.stderr + moved.stdout).toBe(0);
    expect(moved.cached).toBe(0);
  });
});
