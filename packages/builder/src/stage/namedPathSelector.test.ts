import type { TarReadHeader } from '@kiln/layer';
import { describe, expect, it } from 'vitest';
import { literalSourcePaths, namedPathSelector, SelectionIncomplete } from './namedPathSelector.ts';

const entry = (type: TarReadHeader['type'], linkname = '') => ({ type, linkname }) as TarReadHeader;

describe('namedPathSelector', () => {
  const select = namedPathSelector([
    { path: 'src/app', wildcard: false },
    { path: 'etc/passwd', wildcard: false },
  ]);

  it('takes the named paths, what is under them and the directories leading to them', () => {
    for (const path of ['src', 'src/app', 'src/app/main.js', 'etc', 'etc/passwd'])
      expect(select(path, entry('file')), path).toBe(true);
    for (const path of ['bin', 'bin/sh', 'src/application', 'src/other', 'etc/group', 'etc/passwd-'])
      expect(select(path, entry('file')), path).toBe(false);
  });

  it('gives up on a symlink the reader would follow to a named path', () => {
    expect(() => select('src', entry('symlink', '/opt/src'))).toThrow(SelectionIncomplete);
    expect(() => select('src/app', entry('symlink', 'v2'))).toThrow(SelectionIncomplete);
    // Under a named path a symlink is copied as one; elsewhere it is not needed.
    expect(select('src/app/current', entry('symlink', '/etc'))).toBe(true);
    expect(select('bin/ls', entry('symlink', 'busybox'))).toBe(false);
  });

  it('gives up on a symlink below a path cut at a wildcard: the copy follows a match', () => {
    const globbed = namedPathSelector([{ path: 'app/dist', wildcard: true }]);
    expect(globbed('app/dist/main.js', entry('file'))).toBe(true);
    expect(() => globbed('app/dist/vendor.js', entry('symlink', '../../lib/vendor.js'))).toThrow(
      SelectionIncomplete,
    );
  });

  it('gives up on a hard link from the selection to a file outside it', () => {
    expect(() => select('src/app/tool', entry('hardlink', 'bin/busybox'))).toThrow(SelectionIncomplete);
    expect(select('src/app/tool', entry('hardlink', '/src/app/other'))).toBe(true);
    expect(select('bin/ls', entry('hardlink', 'bin/busybox'))).toBe(false);
  });
});

describe('literalSourcePaths', () => {
  it('names each source up to its first wildcard, relative to the root', () => {
    expect(literalSourcePaths(['/src/shout.txt', 'app/dist/*.js', './etc/../opt/x'], '\\', false)).toEqual([
      { path: 'src/shout.txt', wildcard: false },
      { path: 'app/dist', wildcard: true },
      { path: 'opt/x', wildcard: false },
    ]);
  });

  it('names nothing when the copy must expand the words first or reads the whole root', () => {
    expect(literalSourcePaths(['/src/$NAME'], '\\', false)).toBeUndefined();
    expect(literalSourcePaths(['"/src/a b"'], '\\', false)).toBeUndefined();
    expect(literalSourcePaths(['/src/a`b'], '`', false)).toBeUndefined();
    expect(literalSourcePaths(['/src/a'], '\\', true)).toBeUndefined();
    expect(literalSourcePaths(['.'], '\\', false)).toBeUndefined();
    expect(literalSourcePaths(['/*/x'], '\\', false)).toBeUndefined();
    expect(literalSourcePaths(['/src/a', '/'], '\\', false)).toBeUndefined();
  });
});
