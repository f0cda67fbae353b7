import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusyboxRegistry, startBusyboxRegistry, stopBusyboxRegistry } from '../busyboxRegistry.ts';
import { runChecked, runKiln } from '../kilnProcess.ts';
import { createSentinelTree, type SentinelTree } from './sentinelTree.ts';

// What RUN tries in Docker's threat model: the host's files through mounts, file handles, raw
// devices and loopback services. Every attempt must fail and leave the sentinel tree as it was.

let env: BusyboxRegistry;
let shocker: string;

/** The classic container escape: open_by_handle_at with a guessed handle of the filesystem's root inode. */
const shockerSource = `#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
int main(void) {
  struct { unsigned int bytes; int type; unsigned char handle[8]; } h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
  int mount_fd = open("/", O_RDONLY | O_DIRECTORY);
  int fd = open_by_handle_at(mount_fd, (struct file_handle *)&h, O_RDONLY | O_DIRECTORY);
  if (fd < 0) { printf("open_by_handle_at=%s\\n", strerror(errno)); return 0; }
  DIR *dir = fdopendir(fd);
  int entries = 0;
  while (readdir(dir)) entries++;
  printf("open_by_handle_at=opened %d entries\\n", entries);
  return 0;
}
`;

beforeAll(async () => {
  env = await startBusyboxRegistry('kiln-hostile-sandbox-');
  await writeFile(join(env.work, 'shocker.c'), shockerSource);
  shocker = join(env.work, 'shocker');
  await runChecked('gcc', ['-static', '-O2', '-o', shocker, join(env.work, 'shocker.c')]);
});
afterAll(async () => {
  await stopBusyboxRegistry(env ?? {});
});

interface Built {
  code: number;
  stderr: string;
  /** RUN output lines marked `@`, without the mark. */
  marks: string[];
}

/**
 * Builds a Dockerfile whose context lives inside a fresh sentinel tree (so a write into the
 * context counts as a change outside the build too) and checks the tree is unchanged after.
 */
async function buildInSentinel(
  dockerfile: (sentinel: SentinelTree) => string,
  options: { files?: Record<string, string | Buffer>; args?: string[] } = {},
): Promise<Built & { sentinel: SentinelTree }> {
  const sentinel = await createSentinelTree(env.work);
  const context = join(sentinel.dir, 'context');
  await mkdir(context);
  await writeFile(join(context, 'Dockerfile'), `ARG BASE\nFROM $BASE\n${dockerfile(sentinel)}`);
  for (const [name, content] of Object.entries(options.files ?? {}))
    await writeFile(join(context, name), content, { mode: 0o755 });
  const before = await sentinel.fingerprint();
  const result = await runKiln([
    'build',
    '--context',
    context,
    '--no-push',
    '--executor',
    'sandbox',
    '--insecure-registry',
    env.registry.host,
    '--build-arg',
    `BASE=${env.base.reference}`,
    ...(options.args ?? []),
  ]);
  expect(await sentinel.fingerprint()).toBe(before);
  const marks = result.stderr
    .split('\n')
    .map((line) => /│ @(.*)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);
  return { code: result.code, stderr: result.stderr, marks, sentinel };
}

const status = 'grep -E "^(CapEff|CapBnd|Seccomp|NoNewPrivs):" /proc/self/status | sed "s/^/@/"';

describe('RUN in the sandbox executor gets no more than Docker gives it', () => {
  it("holds Docker's default capabilities, the seccomp filter and no_new_privs; a USER none", async () => {
    const built = await buildInSentinel(() => `RUN ${status}\nUSER 1000:1000\nRUN ${status}\n`);
    expect(built.code, built.stderr).toBe(0);
    expect(built.marks).toEqual([
      'CapEff:\t00000000a80425fb',
      'CapBnd:\t00000000a80425fb',
      'NoNewPrivs:\t1',
      'Seccomp:\t2',
      'CapEff:\t0000000000000000',
      'CapBnd:\t00000000a80425fb',
      'NoNewPrivs:\t1',
      'Seccomp:\t2',
    ]);
  });

  it('cannot remount read-only binds writable, mount anything or make namespaces', async () => {
    const attempt = (name: string, command: string) =>
      `(${command}) 2>/dev/null && echo @${name}=ok || echo @${name}=denied`;
    const built = await buildInSentinel(
      () =>
        `RUN --mount=type=bind,target=/ctx ${[
          attempt('remount-context', 'mount -o remount,rw,bind /ctx && echo pwned > /ctx/plain.txt'),
          attempt('remount-hosts', 'mount -o remount,rw,bind /etc/hosts && echo pwned >> /etc/hosts'),
          attempt('tmpfs', 'mount -t tmpfs none /mnt'),
          attempt('unshare', 'unshare -m true'),
          attempt('write-context', 'echo pwned > /ctx/plain.txt'),
        ].join('; ')}\n`,
      { files: { 'plain.txt': 'context file\n' } },
    );
    expect(built.code, built.stderr).toBe(0);
    expect(built.marks).toEqual([
      'remount-context=denied',
      'remount-hosts=denied',
      'tmpfs=denied',
      'unshare=denied',
      'write-context=denied',
    ]);
    expect(await readFile(join(built.sentinel.dir, 'context', 'plain.txt'), 'utf8')).toBe('context file\n');
  });

  it("cannot write the host's kernel settings through /proc (core_pattern, sysrq-trigger)", async () => {
    // Opening for append writes nothing; it shows whether a write (a host-wide core_pattern
    // helper run as root, a reboot) would be allowed.
    const open = (name: string, path: string) =>
      `(: >> ${path}) 2>/dev/null && echo @${name}=writable || echo @${name}=refused`;
    const built = await buildInSentinel(
      () =>
        `RUN ${open('core_pattern', '/proc/sys/kernel/core_pattern')}; ${open('sysrq', '/proc/sysrq-trigger')}\n`,
    );
    expect(built.code, built.stderr).toBe(0);
    expect(built.marks).toEqual(['core_pattern=refused', 'sysrq=refused']);
  });

  it('cannot open files by handle (the shocker escape)', async () => {
    const built = await buildInSentinel(() => 'COPY shocker /shocker\nRUN /shocker | sed "s/^/@/"\n', {
      files: { shocker: await readFile(shocker) },
    });
    expect(built.code, built.stderr).toBe(0);
    expect(built.marks).toEqual(['open_by_handle_at=Operation not permitted']);
  });

  it("may mknod the host's disk, as in Docker, but never read it", async () => {
    const partitions = await readFile('/proc/partitions', 'utf8');
    const disk = /^\s*(\d+)\s+(\d+)\s+\d+\s+(\S+)\s*$/m.exec(partitions.split('\n').slice(2).join('\n'));
    if (!disk) throw new Error('no block device in /proc/partitions');
    const [, major, minor] = disk;
    const built = await buildInSentinel(
      () =>
        `RUN mknod /disk b ${major} ${minor} && echo @mknod=ok; head -c 512 /disk >/dev/null 2>&1 && echo @read=ok || echo @read=denied; ` +
        `mknod /dev/disk b ${major} ${minor} 2>/dev/null; head -c 512 /dev/disk >/dev/null 2>&1 && echo @dev-read=ok || echo @dev-read=denied; rm -f /disk\n`,
    );
    expect(built.code, built.stderr).toBe(0);
    expect(built.marks).toEqual(['mknod=ok', 'read=denied', 'dev-read=denied']);
  });

  it('creates mount points through symlinks left in the stage root inside it, never on the host', async () => {
    const built = await buildInSentinel(
      (sentinel) => {
        const relative = `../../../../../../../..${sentinel.dir}`;
        return (
          `RUN ln -s ${sentinel.dir} /abs && ln -s ${relative} /rel\n` +
          'RUN --mount=type=tmpfs,target=/abs/made --mount=type=bind,source=plain.txt,target=/rel/nested/plain.txt ' +
          'echo x > /abs/made/x && cat /rel/nested/plain.txt | sed "s/^/@/"\n'
        );
      },
      { files: { 'plain.txt': 'bound\n' } },
    );
    expect(built.code, built.stderr).toBe(0);
    expect(built.marks).toEqual(['bound']);
  });

  it('RUN --security=insecure is refused without --allow security.insecure, and unconfined with it', async () => {
    const dockerfile = () => `RUN true\nRUN --security=insecure ${status}\n`;
    const refused = await buildInSentinel(dockerfile);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /Dockerfile:4: RUN --security=insecure needs .*--allow security\.insecure/,
    );
    expect(refused.stderr).not.toContain('Seccomp');
    const allowed = await buildInSentinel(dockerfile, { args: ['--allow', 'security.insecure'] });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.marks).toContain('Seccomp:\t0');
    expect(allowed.marks.find((line) => line.startsWith('CapEff'))).not.toBe('CapEff:\t00000000a80425fb');
  });

  describe('the build network', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer((socket) => socket.end('reached\n'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => {
      server?.close();
    });

    const probe = () => `RUN (nc -w 3 127.0.0.1 ${port} </dev/null || echo unreachable) | sed "s/^/@/"\n`;

    it("--network sandbox keeps RUN away from the runner's loopback services; host reaches them", async () => {
      const sandboxed = await buildInSentinel(probe, { args: ['--network', 'sandbox'] });
      expect(sandboxed.code, sandboxed.stderr).toBe(0);
      expect(sandboxed.marks).toEqual(['unreachable']);
      const host = await buildInSentinel(probe, { args: ['--network', 'host'] });
      expect(host.code, host.stderr).toBe(0);
      expect(host.marks).toEqual(['reached']);
    });

    it('RUN --network=host cannot undo --network sandbox without --allow network.host', async () => {
      const hostStep = () => `RUN --network=host nc -w 3 127.0.0.1 ${port} </dev/null\n`;
      const refused = await buildInSentinel(hostStep, { args: ['--network', 'sandbox'] });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/Dockerfile:3: RUN --network=host needs --allow network\.host/);
    });
  });
});
