import { describe, expect, it } from 'vitest';
import { parseBuildArgs, parseLabels } from './buildArgs.ts';

describe('build flags', () => {
  it('parses --build-arg K=V and K (from the environment), refusing bad names', () => {
    const args = parseBuildArgs(['A=1', 'B=x=y', 'FROM_ENV', 'UNSET'], { FROM_ENV: 'env' });
    expect([...args]).toEqual([
      ['A', '1'],
      ['B', 'x=y'],
      ['FROM_ENV', 'env'],
    ]);
    expect(() => parseBuildArgs(['=1'])).toThrow(
      expect.objectContaining({ code: 'INVALID_BUILD_ARG', exitCode: 2 }),
    );
    expect(() => parseBuildArgs(['1A=1'])).toThrow(expect.objectContaining({ code: 'INVALID_BUILD_ARG' }));
  });

  it('parses --label k=v', () => {
    expect(parseLabels(['a=1', 'b.c=x=y'])).toEqual({ a: '1', 'b.c': 'x=y' });
    expect(() => parseLabels(['novalue'])).toThrow(expect.objectContaining({ code: 'INVALID_LABEL' }));
  });
});
