import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSecretFlag, parseSshFlag } from './secretFlags.ts';

describe('--secret (buildx syntax)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-secret-flag-'));
  const file = join(dir, 'token');
  await writeFile(file, 'x');

  it('src= and source= name a file; env= a variable; type=env takes src as the variable', () => {
    expect(parseSecretFlag(`id=a,src=${file}`, {})).toEqual({ id: 'a', file });
    expect(parseSecretFlag(`id=a,type=file,source=${file}`, {})).toEqual({ id: 'a', file });
    expect(parseSecretFlag('id=a,env=TOKEN', { TOKEN: 'v' })).toEqual({ id: 'a', value: 'v' });
    expect(parseSecretFlag('type=env,id=a,src=TOKEN', { TOKEN: 'v' })).toEqual({ id: 'a', value: 'v' });
  });

  it('id alone is the variable of that name when set, else the file', () => {
    expect(parseSecretFlag('id=TOKEN', { TOKEN: 'v' })).toEqual({ id: 'TOKEN', value: 'v' });
    expect(() => parseSecretFlag('id=TOKEN', {})).toThrow(
      expect.objectContaining({ code: 'INVALID_SECRET_FLAG' }),
    );
  });

  it('an unset variable provides nothing; a bad flag is a usage error that never echoes a value', () => {
    expect(parseSecretFlag('id=a,env=UNSET', {})).toBeUndefined();
    for (const bad of [
      'src=/x',
      'id=a,type=ssh',
      'id=a,foo=bar',
      'id=a,src=/nonexistent/file',
      'id=a,flag',
    ]) {
      expect(() => parseSecretFlag(bad, {})).toThrow(
        expect.objectContaining({ code: 'INVALID_SECRET_FLAG', exitCode: 2 }),
      );
    }
  });
});

describe('--ssh', () => {
  it('ID alone is $SSH_AUTH_SOCK; ID=a,b are paths', () => {
    expect(parseSshFlag('default', { SSH_AUTH_SOCK: '/s' })).toEqual({ id: 'default', paths: ['/s'] });
    expect(parseSshFlag('git=/k1,/k2', {})).toEqual({ id: 'git', paths: ['/k1', '/k2'] });
    expect(() => parseSshFlag('default', {})).toThrow(
      expect.objectContaining({ code: 'INVALID_SECRET_FLAG' }),
    );
  });
});
