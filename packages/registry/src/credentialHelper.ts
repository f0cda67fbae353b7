import { spawn } from 'node:child_process';
import { KilnError } from '@kiln/errors';
import type { Credential } from './dockerConfig.ts';
import { redactSecrets, registerSecret } from './redact.ts';

/**
 * Docker's credential helper protocol: `docker-credential-<name> get` with the server URL on
 * stdin answers `{"ServerURL","Username","Secret"}`; Username `<token>` means Secret is an
 * identity token. "credentials not found" is not an error: the registry is tried anonymously.
 */
export async function runCredentialHelper(name: string, serverUrl: string): Promise<Credential | undefined> {
  const program = `docker-credential-${name}`;
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString('utf8');
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          reject(
            new KilnError('CREDENTIAL_HELPER_FAILED', `credential helper ${program} not found on PATH`, {
              hint: `install ${program}, or remove "${name}" from credHelpers/credsStore in config.json`,
            }),
          );
        } else reject(error);
      });
      child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
      child.stdin.end(serverUrl);
    },
  );
  if (code !== 0) {
    const message = `${stdout} ${stderr}`;
    if (/credentials not found/i.test(message)) return undefined;
    throw new KilnError(
      'CREDENTIAL_HELPER_FAILED',
      `${program} get ${serverUrl} exited with ${code}: ${redactSecrets(message.trim()).slice(0, 200)}`,
    );
  }
  let answer: { Username?: string; Secret?: string };
  try {
    answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new KilnError('CREDENTIAL_HELPER_FAILED', `${program} get ${serverUrl} did not answer JSON`);
  }
  registerSecret(answer.Secret);
  if (!answer.Secret) return undefined;
  if (answer.Username === '<token>') return { identityToken: answer.Secret };
  return { username: answer.Username ?? '', password: answer.Secret };
}
