import { describe, expect, it } from 'vitest';
import { parseGitModules, resolveSubmoduleUrl } from './gitModules.ts';

describe('parseGitModules', () => {
  it('reads path and url of each submodule section, ignoring comments and other sections', () => {
    const text =
      '# top\n[core]\n\tpath = no\n[submodule "a"]\n\tpath = vendor/a/\n\turl = ../a.git ; note\n[submodule "b"]\n\turl = "https://h/b.git"\n\tpath = b\n';
    expect(parseGitModules(text)).toEqual([
      { path: 'vendor/a', url: '../a.git' },
      { path: 'b', url: 'https://h/b.git' },
    ]);
  });

  it('resolves relative URLs against the superproject as git does', () => {
    expect(resolveSubmoduleUrl('../lib.git', 'http://h/org/main.git')).toBe('http://h/org/lib.git');
    expect(resolveSubmoduleUrl('./sub.git', 'http://h/org/main.git/')).toBe('http://h/org/main.git/sub.git');
    expect(resolveSubmoduleUrl('https://other/x.git', 'http://h/main.git')).toBe('https://other/x.git');
  });
});
