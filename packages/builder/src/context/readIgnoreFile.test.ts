import { access, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBuilder, type TestBuilder } from '../testing/testBuild.ts';
import { readContextIgnore } from './readIgnoreFile.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-ignore-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function context(name: string, files: Record<string, string>): Promise<string> {
  const root = join(dir, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

describe('readContextIgnore', () => {
  it('never lets a walk skip an ignored directory that an exception reaches into', async () => {
    const root = await context('exception', { '.dockerignore': 'logs/\n!logs/keep.log\ntmp\n' });
    const ignored = await readContextIgnore(root);
    expect(ignored('logs', true)).toBe(false);
    expect(ignored('logs/keep.log', false)).toBe(false);
    expect(ignored('logs/other.log', false)).toBe(true);
    expect(ignored('tmp', true)).toBe(true);
    // Walked, but itself ignored: dropped unless something below it is kept.
    expect(ignored('logs', true, true)).toBe(true);
  });

  it('prefers <Dockerfile>.dockerignore beside the Dockerfile over the context one', async () => {
    const root = await context('specific', {
      '.dockerignore': 'a.txt\n',
      'build/app.Dockerfile.dockerignore': 'b.txt\n',
    });
    const specific = await readContextIgnore(root, join(root, 'build/app.Dockerfile'));
    expect([specific('a.txt', false), specific('b.txt', false)]).toEqual([false, true]);
    const fallback = await readContextIgnore(root, join(root, 'Dockerfile'));
    expect([fallback('a.txt', false), fallback('b.txt', false)]).toEqual([true, false]);
  });

  it('resolves <Dockerfile>.dockerignore in the context inside it: a link out reads no host file', async () => {
    const host = join(dir, 'host-ignore');
    await writeFile(host, 'secret.txt\n');
    const root = await context('linked', { Dockerfile: 'FROM scratch\n' });
    // Absolute: as the context's root sees it, /…/host-ignore is not there, so no rule applies.
    await symlink(host, join(root, 'Dockerfile.dockerignore'));
    const ignore = await readContextIgnore(root, join(root, 'Dockerfile'));
    expect(ignore('secret.txt', false)).toBe(false);
  });
});

describe('.dockerignore exceptions in a build', () => {
  let builder: TestBuilder;
  beforeAll(async () => {
    builder = await createTestBuilder();
  });
  afterAll(() => builder.dispose());

  it('COPY sends a re-included file from an ignored directory, as Docker does', {
    timeout: 60_000,
  }, async () => {
    const { tree } = await builder.build('exception', 'FROM busybox\nCOPY . /app\nCOPY logs /logs\n', {
      '.dockerignore': 'logs/\n!logs/keep.log\n',
      'main.txt': 'main\n',
      'logs/keep.log': 'keep\n',
      'logs/other.log': 'other\n',
    });
    expect(await readFile(join(tree, 'app/logs/keep.log'), 'utf8')).toBe('keep\n');
    expect(await readFile(join(tree, 'logs/keep.log'), 'utf8')).toBe('keep\n');
    await expect(access(join(tree, 'app/logs/other.log'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(access(join(tree, 'logs/other.log'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('drops a walked, ignored directory when nothing below it is re-included', {
    timeout: 60_000,
  }, async () => {
    const { tree } = await builder.build('walked-empty', 'FROM busybox\nCOPY . /app\n', {
      '.dockerignore': '*\n!**/keep.txt\n',
      'main.txt': 'main\n',
      'a/keep.txt': 'keep\n',
      'b/skip.txt': 'skip\n',
      'c/d/skip.txt': 'skip\n',
      'c/e/keep.txt': 'deep keep\n',
    });
    expect(await readFile(join(tree, 'app/a/keep.txt'), 'utf8')).toBe('keep\n');
    expect(await readFile(join(tree, 'app/c/e/keep.txt'), 'utf8')).toBe('deep keep\n');
    for (const gone of ['app/main.txt', 'app/b', 'app/c/d']) {
      await expect(access(join(tree, gone))).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('reads <Dockerfile>.dockerignore before the context .dockerignore', { timeout: 60_000 }, async () => {
    const files = {
      '.dockerignore': 'a.txt\n',
      'Dockerfile.dockerignore': 'b.txt\n',
      'a.txt': 'a',
      'b.txt': 'b',
    };
    const { tree } = await builder.build('specific', 'FROM busybox\nCOPY . /app\n', files, {
      dockerfilePath: join(dir, 'unused', 'Dockerfile'),
    });
    // No Dockerfile.dockerignore beside that path: the context's rules apply.
    await expect(access(join(tree, 'app/a.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    const beside = await builder.build('specific-beside', 'FROM busybox\nCOPY . /app\n', files, {
      dockerfilePath: join(builder.contextOf('specific-beside'), 'Dockerfile'),
    });
    expect(await readFile(join(beside.tree, 'app/a.txt'), 'utf8')).toBe('a');
    await expect(access(join(beside.tree, 'app/b.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
