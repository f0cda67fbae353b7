import { describe, expect, it } from 'vitest';
import { parseGitSource } from './gitSource.ts';

describe('parseGitSource', () => {
  it('takes git, ssh, scp-like and .git http(s) URLs as git, with #ref:subdir', () => {
    expect(parseGitSource('https://example.com/org/repo.git')).toEqual({
      url: 'https://example.com/org/repo.git',
    });
    expect(parseGitSource('http://127.0.0.1:8080/repo.git#dev:sub/dir')).toEqual({
      url: 'http://127.0.0.1:8080/repo.git',
      ref: 'dev',
      subdir: 'sub/dir',
    });
    expect(parseGitSource('git://example.com/repo#v1.0')).toEqual({
      url: 'git://example.com/repo',
      ref: 'v1.0',
    });
    expect(parseGitSource('ssh://git@example.com/repo.git#:docs')).toEqual({
      url: 'ssh://git@example.com/repo.git',
      subdir: 'docs',
    });
    expect(parseGitSource('git@github.com:moby/buildkit.git#master')).toEqual({
      url: 'git@github.com:moby/buildkit.git',
      ref: 'master',
    });
  });

  it('leaves plain downloads and local paths alone', () => {
    for (const text of [
      'https://example.com/file.tar.gz',
      'https://example.com/repo.git/archive.tar',
      'https://example.com/x?y=repo.git',
      'github.com/moby/buildkit',
      'repo.git',
      'dir/file',
    ]) {
      expect(parseGitSource(text)).toBeUndefined();
    }
  });
});
