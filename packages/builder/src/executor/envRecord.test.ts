import { describe, expect, it } from 'vitest';
import { envRecord } from './envRecord.ts';

describe('envRecord', () => {
  it('splits at the first =, keeps a bare name as empty, drops an empty name, lets later entries win', () => {
    expect(envRecord(['PATH=/bin', 'OPTS=a=b', 'EMPTY=', 'BARE', '=orphan', 'PATH=/usr/bin'])).toEqual({
      PATH: '/usr/bin',
      OPTS: 'a=b',
      EMPTY: '',
      BARE: '',
    });
  });
});
