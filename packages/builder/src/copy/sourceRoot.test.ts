import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandSourceWildcard } from './sourceRoot.ts';

let base: string;
let root: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-wildcard-'));
  root = join(base, 'context');
  await mkdir(join(root, 'src', 'lib'), { recursive: true });
  await mkdir(join(base, 'host'));
  await writeFile(join(base, 'host', 'secret.txt'), 'host secret');
  await writeFile(join(root, 'src', 'a.txt'), 'a');
  await writeFile(join(root, 'src', '.hidden.txt'), 'h');
  await writeFile(join(root, 'src', 'lib', 'b.txt'), 'b');
  await symlink(join(base, 'host'), join(root, 'abslink'));
  await symlink('../../host', join(root, 'rellink'));
  await symlink('src', join(root, 'inside'));
});

afterEach(() => rm(base, { recursive: true, force: true }));

describe('expandSourceWildcard', () => {
  it('matches per component as filepath.Match does, dotfiles included', async () => {
    expect(await expandSourceWildcard(root, 'src/*.txt', 'Dockerfile:2')).toEqual([
      'src/.hidden.txt',
      'src/a.txt',
    ]);
    expect(await expandSourceWildcard(root, 's?c/[a-b].txt', 'Dockerfile:2')).toEqual(['src/a.txt']);
    expect(await expandSourceWildcard(root, 'src/[^a].txt', 'Dockerfile:2')).toEqual([]);
    expect(await expandSourceWildcard(root, '*/lib/b.txt', 'Dockerfile:2')).toEqual([
      'inside/lib/b.txt',
      'src/lib/b.txt',
    ]);
  });

  it('never lists a host directory through a link leaving the root', async () => {
    expect(await expandSourceWildcard(root, 'abslink/*', 'Dockerfile:2')).toEqual([]);
    expect(await expandSourceWildcard(root, 'rellink/*', 'Dockerfile:2')).toEqual([]);
    expect(await expandSourceWildcard(root, '*link/secret.txt', 'Dockerfile:2')).toEqual([]);
  });

  it('refuses a malformed pattern with a KilnError', async () => {
    await expect(expandSourceWildcard(root, 'src/[a', 'Dockerfile:2')).rejects.toMatchObject({
      code: 'COPY_INVALID_PATTERN',
    });
  });
});
