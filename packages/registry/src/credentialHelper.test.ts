import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCredentialHelper } from './credentialHelper.ts';

let bin: string;
let savedPath: string | undefined;
beforeEach(async () => {
  bin = await mkdtemp(join(tmpdir(), 'kiln-credhelper-'));
  savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${savedPath}`;
});
afterEach(async () => {
  process.env.PATH = savedPath;
  await rm(bin, { recursive: true, force: true });
});

async function helper(name: string, script: string): Promise<void> {
  const file = join(bin, `docker-credential-${name}`);
  await writeFile(file, `#!/bin/sh\n${script}\n`);
  await chmod(file, 0o755);
}

describe('runCredentialHelper', () => {
  it('sends the server on stdin and reads username/secret or an identity token', async () => {
    await helper('basic', 'read server; printf \'{"Username":"u-%s","Secret":"s3cret"}\' "$server"');
    expect(await runCredentialHelper('basic', 'reg.example')).toEqual({
      username: 'u-reg.example',
      password: 's3cret',
    });
    await helper('token', 'printf \'{"Username":"<token>","Secret":"tok"}\'');
    expect(await runCredentialHelper('token', 'reg.example')).toEqual({ identityToken: 'tok' });
  });

  it('treats "credentials not found" as anonymous, and any other failure as CREDENTIAL_HELPER_FAILED', async () => {
    await helper('none', 'echo "credentials not found in native keychain" >&2; exit 1');
    expect(await runCredentialHelper('none', 'reg.example')).toBeUndefined();
    await helper('broken', 'echo "keychain locked" >&2; exit 3');
    const error = await runCredentialHelper('broken', 'reg.example').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CREDENTIAL_HELPER_FAILED' });
    expect((error as Error).message).toContain('exited with 3: keychain locked');
    await expect(runCredentialHelper('absent', 'reg.example')).rejects.toMatchObject({
      code: 'CREDENTIAL_HELPER_FAILED',
      hint: expect.stringContaining('install docker-credential-absent'),
    });
  });
});
