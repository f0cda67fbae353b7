import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import { findExecutable } from './findExecutable.ts';

/**
 * The user-mode network stack that gives RUN's network namespace outbound access: slirp4netns.
 * Not pasta: run as root it drops to `nobody` and sheds its capabilities before it joins the
 * namespace, and then may not open a bubblewrap sandbox's /proc/PID/ns/net.
 */
export interface UserNetworkTool {
  kind: 'slirp4netns';
  path: string;
}

export async function findUserNetworkTool(): Promise<UserNetworkTool | undefined> {
  const slirp = await findExecutable('slirp4netns');
  return slirp ? { kind: 'slirp4netns', path: slirp } : undefined;
}

export function userNetworkUnavailable(): KilnError {
  return new KilnError('NETWORK_UNAVAILABLE', '--network sandbox needs slirp4netns, which is not installed', {
    hint: 'install the Debian package slirp4netns, or use --network host|none',
    exitCode: 2,
  });
}

export interface UserNetwork {
  stop(): Promise<void>;
}

/** The resolv.conf RUN sees behind the stack: its DNS forwarder (the host's resolver may be on loopback). */
export function userNetworkResolvConf(_tool: UserNetworkTool): string {
  return 'nameserver 10.0.2.3\n';
}

/**
 * Attaches the stack to the network namespace of `pid` and resolves once the interface inside is
 * up. RUN then reaches what the host's routes reach, but not the host's own loopback services
 * (--disable-host-loopback), and nothing outside can connect in.
 */
export async function startUserNetwork(tool: UserNetworkTool, pid: number): Promise<UserNetwork> {
  const args = ['--configure', '--mtu=65520', '--disable-host-loopback', '--ready-fd', '3', '--exit-fd', '4'];
  const child = spawn(tool.path, [...args, String(pid), 'tap0'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  const ready = child.stdio[3] as Readable;
  const exitPipe = child.stdio[4] as Writable;
  // The pipes reset when slirp4netns dies with the namespace: that is not an error here.
  ready.on('error', () => {});
  exitPipe.on('error', () => {});
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      stderr += error.message;
      resolve();
    });
    child.on('exit', () => resolve());
  });
  const isReady = await new Promise<boolean>((resolve) => {
    ready.once('data', () => resolve(true));
    void exited.then(() => resolve(false));
  });
  if (!isReady) {
    const why = stderr.trim().split('\n').at(-1) ?? 'it exited';
    throw new KilnError('NETWORK_UNAVAILABLE', `slirp4netns could not set up RUN's network: ${why}`);
  }
  return {
    stop: async () => {
      // Closing the exit fd (fully: it waits for a hang-up, not for EOF) ends slirp4netns.
      exitPipe.destroy();
      await exited;
    },
  };
}
