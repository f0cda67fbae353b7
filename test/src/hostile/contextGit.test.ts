import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startGitHttpServer } from '../contextServers.ts';
import { runKiln } from '../kilnProcess.ts';
import { useHostileEnvironment } from './hostileEnvironment.ts';

/**
 * A git context is hostile input: trees that git itself would refuse to check out (a `.git` entry, a
 * `..` entry) are refused by Kiln's tree writer, and nothing outside the build changes.
 */

const env = useHostileEnvironment('kiln-hostile-git-');
let server: LocalServer;
let root: string;

beforeAll(async () => {
  root = join(env.work, 'git');
  await mkdir(root, { recursive: true });
  server = await startGitHttpServer(root);
}, 120_000);
afterAll(async () => {
  await server?.close();
});

/** A bare repository whose one commit has the tree `entries` (`mode type name` → blob text or subtree). */
function hostileRepo(name: string, entries: string[]): void {
  const dir = join(root, name);
  execFileSync('git', ['init', '-q', '--bare', dir]);
  const git = (args: string[], input?: string) =>
    execFileSync('git', ['-C', dir, ...args], { input, encoding: 'utf8' }).trim();
  const blob = (text: string) => git(['hash-object', '-w', '--stdin'], text);
  const dockerfile = blob('ARG BASE\nFROM $BASE\nCOPY . /ctx/\n');
  const hook = blob('#!/bin/sh\necho pwned\n');
  const inner = git(['mktree'], `100755 blob ${hook}\tpost-checkout\n`);
  const lines = entries.map((entry) => entry.replace('HOOK', hook).replace('TREE', inner));
  const tree = git(['mktree'], `100644 blob ${dockerfile}\tDockerfile\n${lines.join('\n')}\n`);
  const commit = git(['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit-tree', tree, '-m', 'hostile']);
  git(['update-ref', 'refs/heads/main', commit]);
  git(['symbolic-ref', 'HEAD', 'refs/heads/main']);
}

async function buildRepo(name: string) {
  const before = await env.sentinel.fingerprint();
  const result = await runKiln(
    [
      'build',
      '--executor',
      'sandbox',
      '--context',
      `git://${server.host}/${name}`,
      '--no-push',
      '--insecure-registry',
      env.registry.host,
      '--build-arg',
      `BASE=${env.base.reference}`,
      '--log-format',
      'json',
    ],
    { GIT_PULL_METHOD: 'http' },
  );
  expect(await env.sentinel.fingerprint()).toBe(before);
  const output = `${result.stdout}\n${result.stderr}`;
  expect(output).not.toContain(env.sentinel.secretText);
  return { ...result, output };
}

describe('hostile git contexts', () => {
  it('refuses a .git entry (hooks, config) in the tree', { timeout: 60_000 }, async () => {
    hostileRepo('dotgit.git', ['040000 tree TREE\t.git']);
    const result = await buildRepo('dotgit.git');
    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toContain('"code":"LAYER_UNSAFE_PATH"');
  });

  it('refuses a .. entry in the tree', { timeout: 60_000 }, async () => {
    hostileRepo('dotdot.git', ['040000 tree TREE\t..']);
    const result = await buildRepo('dotdot.git');
    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toContain('"code":"LAYER_UNSAFE_PATH"');
  });
});
