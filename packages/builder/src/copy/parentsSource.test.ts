import { access, lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBuilder, type TestBuilder } from '../testing/testBuild.ts';
import { splitParentsPivot } from './parentsSource.ts';

describe('splitParentsPivot', () => {
  it('cuts at the first /./ as BuildKit does', () => {
    expect(splitParentsPivot('x/a.txt')).toEqual({ pivot: '', kept: 'x/a.txt' });
    expect(splitParentsPivot('./x/./sub/b.txt')).toEqual({ pivot: './x', kept: 'sub/b.txt' });
    expect(splitParentsPivot('a/./b/./c')).toEqual({ pivot: 'a', kept: 'b/./c' });
  });
});

describe('COPY --parents and ADD --parents', () => {
  let builder: TestBuilder;
  beforeAll(async () => {
    builder = await createTestBuilder();
  });
  afterAll(() => builder.dispose());

  it('keep each source’s path (after a /./ pivot) under the destination', { timeout: 60_000 }, async () => {
    const { tree } = await builder.build(
      'parents',
      [
        'FROM busybox',
        'COPY --parents x/a.txt y/a.txt /parents/',
        'COPY --parents ./x/./sub/b.txt /pivot/',
        'COPY --parents */a.txt /glob/',
        'COPY --parents x /dirs',
        'ADD --parents y/a.txt /added/',
        'COPY --parents --chown=1000:1000 x/sub/b.txt /owned/',
        '',
      ].join('\n'),
      { 'x/a.txt': 'xa', 'x/sub/b.txt': 'xb', 'y/a.txt': 'ya' },
    );
    const read = (path: string) => readFile(join(tree, path), 'utf8');
    expect([await read('parents/x/a.txt'), await read('parents/y/a.txt')]).toEqual(['xa', 'ya']);
    expect(await read('pivot/sub/b.txt')).toBe('xb');
    await expect(access(join(tree, 'pivot/x'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect([await read('glob/x/a.txt'), await read('glob/y/a.txt')]).toEqual(['xa', 'ya']);
    expect([await read('dirs/x/a.txt'), await read('dirs/x/sub/b.txt')]).toEqual(['xa', 'xb']);
    expect(await read('added/y/a.txt')).toBe('ya');
    for (const dir of ['owned', 'owned/x', 'owned/x/sub']) {
      const info = await lstat(join(tree, dir));
      expect({ dir, uid: info.uid, gid: info.gid, mode: info.mode & 0o777 }).toEqual({
        dir,
        uid: 1000,
        gid: 1000,
        mode: 0o755,
      });
    }
  });
});
