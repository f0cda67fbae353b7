import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { KilnError } from '@kiln/errors';

/** The sandbox's pid from bwrap's --info-fd JSON (`{"child-pid": 1234, …}`). */
export function readChildPid(stream: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    const onData = (chunk: string) => {
      text += chunk;
      const match = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (match) {
        stream.off('data', onData);
        // Keep draining to EOF: a paused stream never closes, and the child's 'close' waits for it.
        stream.resume();
        resolve(Number(match[1]));
      }
    };
    stream.on('data', onData);
    stream.once('end', () =>
      reject(new KilnError('SANDBOX_FAILED', 'bubblewrap exited before reporting its sandbox')),
    );
  });
}

/**
 * bwrap configures the sandbox's loopback right after it reports the pid; slirp4netns setting up
 * its interface at the same time makes bwrap's netlink request fail. So wait for loopback to be
 * up: 127.0.0.1 in the namespace's routing table and, where IPv6 is on, ::1 (added once lo is up).
 */
export async function waitForLoopback(pid: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      const fib = await readFile(`/proc/${pid}/net/fib_trie`, 'utf8');
      const inet6 = await readFile(`/proc/${pid}/net/if_inet6`, 'utf8').catch(() => undefined);
      if (fib.includes('127.0.0.1') && (inet6 === undefined || / lo$/m.test(inet6))) return;
    } catch {
      return; // the sandbox is gone already: nothing to attach to, the run reports why
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
