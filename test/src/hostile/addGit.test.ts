import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startGitHttpServer } from '../contextServers.ts';
import { runKiln } from '../kilnProcess.ts';
import { createSentinelTree, type SentinelTree } from './sentinelTree.ts';

/**
 * ADD of a git source is hostile input: a `#ref:subdir` through one of the repository's own
 * symlinks leads nowhere, a symlink in the tree is copied as a link (never followed), a `.git` entry
 * is refused, and nothing outside the build changes.
 */

let work: string;
let root: string;
let server: LocalServer;
let sentinel: SentinelTree;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kiln-hostile-addgit-'));
  root = join(work, 'git');
  await mkdir(root, { recursive: true });
  sentinel = await createSentinelTree();
  server = await startGitHttpServer(root);
}, 60_000);
afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
  if (sentinel) await rm(sentinel.dir, { recursive: true, force: true });
});

/** A bare repository whose one commit on main has the tree `entries` (`mode type oid\tname`). */
function hostileRepo(name: string, entries: (blob: (text: string) => string) => string[]): void {
  const dir = join(root, name);
  execFileSync('git', ['init', '-q', '--bare', dir]);
  const git = (args: string[], input?: string) =>
    execFileSync('git', ['-C', dir, ...args], { input, encoding: 'utf8' }).trim();
  const blob = (text: string) => git(['hash-object', '-w', '--stdin'], text);
  const tree = git(['mktree'], `${entries(blob).join('\n')}\n`);
  const commit = git(['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit-tree', tree, '-m', 'hostile']);
  git(['update-ref', 'refs/heads/main', commit]);
  git(['symbolic-ref', 'HEAD', 'refs/heads/main']);
}

let builds = 0;
async function build(source: string) {
  const out = join(work, `out-${builds++}`);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'Dockerfile'), `FROM scratch\nADD ${source} /dst\n`);
  const before = await sentinel.fingerprint();
  const tarPath = join(out, 'image.tar');
  const result = await runKiln([
    'build',
    '--context',
    out,
    '--no-push',
    '--tar-path',
    tarPath,
    '--log-format',
    'json',
  ]);
  expect(await sentinel.fingerprint()).toBe(before);
  const output = `${result.stdout}\n${result.stderr}`;
  expect(output).not.toContain(sentinel.secretText);
  const image = result.code === 0 ? (await readFile(tarPath)).toString('latin1') : '';
  expect(image).not.toContain(sentinel.secretText);
  return { ...result, output, image };
}

describe('hostile git sources in ADD', () => {
  it('refuses a subdir reached through a symlink of the repository', { timeout: 60_000 }, async () => {
    hostileRepo('linkdir.git', (blob) => [`120000 blob ${blob(sentinel.dir)}\tlink`]);
    for (const subdir of ['link', 'link/nested']) {
      const result = await build(`${server.url}/linkdir.git#main:${subdir}`);
      expect(result.code, result.output).toBe(2);
      expect(result.output).toContain('"code":"ADD_GIT_FAILED"');
    }
  });

  it('copies a symlink to a host file as a link, never its target', { timeout: 60_000 }, async () => {
    hostileRepo('linkfile.git', (blob) => [
      `120000 blob ${blob(join(sentinel.dir, 'secret.txt'))}\tsecret`,
      `100644 blob ${blob('plain')}\tplain.txt`,
    ]);
    const result = await build(`${server.url}/linkfile.git#main`);
    expect(result.code, result.output).toBe(0);
    expect(result.image).toContain(join(sentinel.dir, 'secret.txt'));
  });

  it('refuses a .git entry in the tree', { timeout: 60_000 }, async () => {
    hostileRepo('dotgit.git', (blob) => [`100644 blob ${blob('[core]\n')}\t.git`]);
    const result = await build(`${server.url}/dotgit.git`);
    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toContain('"code":"LAYER_UNSAFE_PATH"');
  });
});
