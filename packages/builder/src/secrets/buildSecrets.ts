import { readFile, stat } from 'node:fs/promises';
import { KilnError } from '@kiln/errors';

/** `--secret`: a file read when a RUN mounts it, or a value (an environment variable's, read by the caller). */
export type SecretSource = { id: string; file: string } | { id: string; value: string };

/** `--ssh ID=SOCKET`: an agent socket on the host that RUN --mount=type=ssh forwards to. */
export interface SshSource {
  id: string;
  socket: string;
}

/**
 * The secrets and ssh agents a build was given. Values are read only when a RUN mounts them and
 * never leave this object except into that RUN: no message, event or key ever carries one.
 */
export class BuildSecrets {
  readonly #secrets = new Map<string, SecretSource>();
  readonly #ssh = new Map<string, SshSource>();

  constructor(secrets: SecretSource[] = [], ssh: SshSource[] = []) {
    // buildx: a later flag for the same id wins.
    for (const secret of secrets) this.#secrets.set(secret.id, secret);
    for (const agent of ssh) this.#ssh.set(agent.id, agent);
  }

  hasSecret(id: string): boolean {
    return this.#secrets.has(id);
  }

  sshSocket(id: string): string | undefined {
    return this.#ssh.get(id)?.socket;
  }

  /** Every secret file and agent socket exists (buildx checks them before the build too). */
  async check(): Promise<void> {
    for (const secret of this.#secrets.values()) {
      if ('file' in secret) await mustExist(secret.file, `secret "${secret.id}"`, 'file');
    }
    for (const agent of this.#ssh.values())
      await mustExist(agent.socket, `ssh agent "${agent.id}"`, 'socket');
  }

  /** The secret's bytes; undefined when the build was given no secret of that id. */
  async read(id: string, where: string): Promise<Buffer | undefined> {
    const secret = this.#secrets.get(id);
    if (secret === undefined) return undefined;
    if ('value' in secret) return Buffer.from(secret.value);
    try {
      return await readFile(secret.file);
    } catch (error) {
      throw new KilnError('SECRET_UNREADABLE', `${where}: cannot read secret "${id}" from ${secret.file}`, {
        cause: error,
      });
    }
  }
}

async function mustExist(path: string, what: string, kind: 'file' | 'socket'): Promise<void> {
  try {
    const info = await stat(path);
    if (kind === 'socket' ? info.isSocket() : !info.isDirectory()) return;
  } catch {
    // reported below
  }
  throw new KilnError(
    kind === 'file' ? 'SECRET_SOURCE_MISSING' : 'SSH_SOURCE_MISSING',
    `${what}: ${path} is not a readable ${kind}`,
    { exitCode: 2 },
  );
}
