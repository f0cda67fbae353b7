import { KilnError } from '@kiln/errors';
import spawn, { SubprocessError } from 'nano-spawn';
import type { Credential } from './dockerConfig.ts';
import { redactSecrets, registerSecret } from './redact.ts';

/**
 * Docker's credential helper protocol: `docker-credential-<name> get` with the server URL on
 * stdin answers `{"ServerURL","Username","Secret"}`; Username `<token>` means Secret is an
 * identity token. "credentials not found" is not an error: the registry is tried anonymously.
 */
export async function runCredentialHelper(name: string, serverUrl: string): Promise<Credential | undefined> {
  const program = `docker-credential-${name}`;
  let stdout: string;
  try {
    ({ stdout } = await spawn(program, ['get'], { stdin: { string: serverUrl } }));
  } catch (error) {
    if (!(error instanceof SubprocessError)) throw error;
    if ((error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new KilnError('CREDENTIAL_HELPER_FAILED', `credential helper ${program} not found on PATH`, {
        hint: `install ${program}, or remove "${name}" from credHelpers/credsStore in config.json`,
      });
    }
    const message = `${error.stdout} ${error.stderr}`;
    if (/credentials not found/i.test(message)) return undefined;
    throw new KilnError(
      'CREDENTIAL_HELPER_FAILED',
      `${program} get ${serverUrl} exited with ${error.exitCode ?? error.signalName}: ${redactSecrets(message.trim()).slice(0, 200)}`,
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
