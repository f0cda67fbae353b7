import { describe, expect, it } from 'vitest';
import { parseGitFlags } from './parseGitFlags.ts';

describe('parseGitFlags', () => {
  it("reads Kaniko's key=value flags, one per flag or comma-separated", () => {
    expect(parseGitFlags(['branch=dev', 'single-branch=true'])).toEqual({
      branch: 'dev',
      singleBranch: true,
    });
    expect(parseGitFlags(['branch=main,recurse-submodules=1,insecure-skip-tls=F'])).toEqual({
      branch: 'main',
      recurseSubmodules: true,
      insecureSkipTls: false,
    });
  });

  it('refuses unknown keys and non-booleans', () => {
    expect(() => parseGitFlags(['depth=1'])).toThrow(expect.objectContaining({ code: 'INVALID_FLAG' }));
    expect(() => parseGitFlags(['single-branch=maybe'])).toThrow(
      expect.objectContaining({ code: 'INVALID_FLAG' }),
    );
  });
});
