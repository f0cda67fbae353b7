import { describe, expect, it } from 'vitest';
import { parseDockerignore } from './dockerignore.ts';
import { createIgnoreMatcher } from './ignoreMatcher.ts';

describe('parseDockerignore', () => {
  it('skips comments and blank lines, trims, cleans paths and drops a leading slash', () => {
    const text =
      '\uFEFF# comment\n\n  node_modules  \r\n/dist/\n./build/../out\n! /keep//me\n#!not an exception\n/\n';
    expect(parseDockerignore(text)).toEqual(['node_modules', 'dist', 'out', '!keep/me', '/']);
  });
});

describe('createIgnoreMatcher', () => {
  const ignores = (patterns: string[], path: string): boolean => createIgnoreMatcher(patterns).ignores(path);

  it.each([
    [['*.md'], 'README.md', true],
    [['*.md'], 'docs/guide.md', false],
    [['*/*.md'], 'docs/guide.md', true],
    [['**/*.md'], 'docs/deep/guide.md', true],
    [['**/*.md'], 'guide.md', true],
    [['docs/**'], 'docs/a/b', true],
    [['docs/**'], 'docsx/a', false],
    [['**'], 'anything/at/all', true],
    [['a/**/b'], 'a/b', true],
    [['a/**/b'], 'a/x/y/b', true],
    [['file?.txt'], 'file1.txt', true],
    [['file?.txt'], 'file/.txt', false],
    [['[a-c]*'], 'beta', true],
    [['[^a-c]*'], 'beta', false],
    [['\\*'], '*', true],
    [['\\*'], 'x', false],
    [['node_modules'], 'node_modules/pkg/index.js', true],
    [['node_modules'], 'src/node_modules', false],
    [['a.b'], 'axb', false],
    [['.git'], '.git/HEAD', true],
  ])('%j on %s → %s', (patterns, path, expected) => {
    expect(ignores(patterns, path)).toBe(expected);
  });

  it('re-includes with ! and lets the last match win', () => {
    const patterns = ['*.md', '!README.md', 'docs', '!docs/keep.md', 'docs/keep.md'];
    const matcher = createIgnoreMatcher(patterns);
    expect(matcher.ignores('CHANGES.md')).toBe(true);
    expect(matcher.ignores('README.md')).toBe(false);
    expect(matcher.ignores('docs/x.txt')).toBe(true);
    expect(matcher.ignores('docs/keep.md')).toBe(true);
    expect(createIgnoreMatcher(['docs', '!docs/keep.md']).ignores('docs/keep.md')).toBe(false);
  });

  it('accepts leading slash and ./ in the path to test', () => {
    const matcher = createIgnoreMatcher(['dist']);
    expect(matcher.ignores('/dist/app.js')).toBe(true);
    expect(matcher.ignores('./dist')).toBe(true);
  });

  it('says when an ignored directory can be skipped without walking it', () => {
    const matcher = createIgnoreMatcher(['build', 'vendor', '!vendor/keep/**', 'cache', '!**/*.keep']);
    expect(matcher.canSkipDirectory('build')).toBe(false);
    expect(matcher.canSkipDirectory('src')).toBe(false);
    const strict = createIgnoreMatcher(['build', 'vendor', '!vendor/keep/**', '!other/x']);
    expect(strict.canSkipDirectory('build')).toBe(true);
    expect(strict.canSkipDirectory('vendor')).toBe(false);
    expect(strict.canSkipDirectory('src')).toBe(false);
    expect(createIgnoreMatcher(['vendor', '!vendor/a/b']).canSkipDirectory('vendor/c')).toBe(true);
    expect(createIgnoreMatcher(['vendor', '!vendor/a/b']).canSkipDirectory('vendor/a')).toBe(false);
  });

  it.each([['[a-'], ['[]a'], ['x\\'], ['!']])('rejects the malformed pattern %j', (pattern) => {
    expect(() => createIgnoreMatcher([pattern])).toThrow(
      expect.objectContaining({ code: 'DOCKERIGNORE_BAD_PATTERN' }),
    );
  });
});
