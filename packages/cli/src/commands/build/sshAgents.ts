import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshSource } from '@kiln/builder';
import { KilnError } from '@kiln/errors';
import spawn, { SubprocessError } from 'nano-spawn';
import type { SshFlag } from './secretFlags.ts';

export interface SshAgents {
  sources: SshSource[];
  /** Stops the throwaway agents and removes their sockets. */
  close: () => Promise<void>;
}

/**
 * `--ssh` sources as sockets: a socket path is used as is; key files are loaded into a throwaway
 * `ssh-agent` (OpenSSH's, as buildx loads keys into an in-process agent) that lives as long as the build.
 */
export async function openSshAgents(flags: SshFlag[]): Promise<SshAgents> {
  const sources: SshSource[] = [];
  const agents: { pid: number; dir: string }[] = [];
  const close = async () => {
    for (const agent of agents.splice(0)) {
      try {
        process.kill(agent.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await rm(agent.dir, { recursive: true, force: true });
    }
  };
  try {
    for (const flag of flags) {
      const kinds = await Promise.all(flag.paths.map(pathKind));
      if (kinds.length === 1 && kinds[0] === 'socket') {
        sources.push({ id: flag.id, socket: flag.paths[0]! });
        continue;
      }
      if (kinds.some((kind) => kind !== 'file')) {
        throw new KilnError(
          'INVALID_SECRET_FLAG',
          `--ssh ${flag.id}: each path must be an agent socket or a key file`,
          {
            exitCode: 2,
          },
        );
      }
      const dir = await mkdtemp(join(tmpdir(), 'kiln-ssh-'));
      const socket = join(dir, 'agent.sock');
      const output = await runSsh('ssh-agent', ['-s', '-a', socket], {});
      const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(output)?.[1]);
      agents.push({ pid, dir });
      await runSsh('ssh-add', ['-q', ...flag.paths], { SSH_AUTH_SOCK: socket });
      sources.push({ id: flag.id, socket });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { sources, close };
}

async function pathKind(path: string): Promise<'socket' | 'file' | 'other'> {
  try {
    const info = await stat(path);
    return info.isSocket() ? 'socket' : info.isFile() ? 'file' : 'other';
  } catch {
    return 'other';
  }
}

async function runSsh(file: string, args: string[], env: Record<string, string>): Promise<string> {
  try {
    const result = await spawn(file, args, { stdin: 'ignore', env: { ...process.env, ...env } });
    return result.stdout;
  } catch (error) {
    const reason = error instanceof SubprocessError ? error.stderr.trim() || error.message : String(error);
    throw new KilnError('SSH_AGENT_FAILED', `--ssh: ${file} failed: ${reason}`, {
      hint: 'key files need OpenSSH (ssh-agent, ssh-add); or pass an agent socket',
      cause: error,
    });
  }
}
