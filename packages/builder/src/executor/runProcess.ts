import { type ChildProcess, spawn } from 'node:child_process';
import type { OutputStream, RunOptions } from './executor.ts';

export interface ProcessSpec {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Bytes the child reads from fd 3 (a pipe, closed after them), e.g. bwrap's --seccomp 3. */
  fd3Input?: Buffer;
  /** More pipes, at fd 4 and up, for `onSpawn` to talk to the child through (bwrap's --info-fd). */
  extraPipes?: number;
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * Spawns a process, streams its output line by line and resolves with its exit code
 * (128 + signal number when killed, as a shell reports it). Shared by both executors.
 */
export function runProcess(spec: ProcessSpec, options: RunOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(spec.file, spec.args, {
      env: spec.env,
      cwd: spec.cwd,
      stdio: [
        'ignore',
        'pipe',
        'pipe',
        ...(spec.fd3Input || spec.extraPipes ? ['pipe' as const] : []),
        ...Array.from({ length: spec.extraPipes ?? 0 }, () => 'pipe' as const),
      ],
      // A process group of its own, so an abort kills everything the command started.
      detached: true,
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    });
    const kill = () => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    options.signal?.addEventListener('abort', kill, { once: true });
    if (spec.fd3Input) {
      const fd3 = child.stdio[3] as NodeJS.WritableStream & {
        on(event: 'error', listener: () => void): void;
      };
      // A child that exits before reading everything closes the pipe: its exit code tells why.
      fd3.on('error', () => {});
      fd3.end(spec.fd3Input);
    } else if (spec.extraPipes) {
      (child.stdio[3] as NodeJS.WritableStream).end();
    }
    spec.onSpawn?.(child);
    const flushers = [
      forwardLines(child.stdout!, 'stdout', options),
      forwardLines(child.stderr!, 'stderr', options),
    ];
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', kill);
      reject(error);
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', kill);
      for (const flush of flushers) flush();
      if (code !== null) resolve(code);
      else resolve(128 + signalNumber(signal));
    });
  });
}

function forwardLines(stream: NodeJS.ReadableStream, name: OutputStream, options: RunOptions): () => void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      options.onOutput?.(pending.slice(0, newline).replace(/\r$/, ''), name);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  });
  return () => {
    if (pending !== '') options.onOutput?.(pending, name);
    pending = '';
  };
}

const signalNumbers: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

function signalNumber(signal: NodeJS.Signals | null): number {
  return (signal && signalNumbers[signal]) ?? 1;
}
