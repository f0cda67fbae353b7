import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBusyboxRoot } from '../testing/busyboxRoot.ts';
import type { ExecCommand } from './executor.ts';
import { findExecutable } from './findExecutable.ts';
import { SandboxExecutor, type SandboxIsolation } from './sandboxExecutor.ts';

const env = ['PATH=/bin', 'HOME=/root'];

for (const isolation of ['bwrap', 'unshare'] as SandboxIsolation[]) {
  describe(`SandboxExecutor (${isolation})`, () => {
    let workDir: string;
    let executor: SandboxExecutor;
    let root: string;

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), 'kiln-sandbox-'));
      executor = new SandboxExecutor({ workDir, isolation });
      root = await executor.prepareRoot({ index: 0, name: 'build' });
      await createBusyboxRoot(root);
    });
    afterAll(async () => {
      await executor.dispose();
      await rm(workDir, { recursive: true, force: true });
    });

    const command = (argv: string[], extra: Partial<ExecCommand> = {}): ExecCommand => ({
      root,
      argv,
      env,
      cwd: '/',
      user: { uid: 0, gid: 0, groups: [] },
      network: 'default',
      ...extra,
    });

    async function capture(cmd: ExecCommand, runner = executor): Promise<{ code: number; lines: string[] }> {
      const lines: string[] = [];
      const code = await runner.run(cmd, { onOutput: (line) => lines.push(line) });
      return { code, lines };
    }

    it('runs as root inside the root, writes land in the stage dir, exit code passes through', async () => {
      const { code, lines } = await capture(
        command(['/bin/sh', '-c', 'id; echo hi > /tmp/out; echo oops >&2; exit 7']),
      );
      expect(code).toBe(7);
      expect(lines.some((line) => line.startsWith('uid=0(root) gid=0(root)'))).toBe(true);
      expect(lines).toContain('oops');
      expect(await readFile(join(root, 'tmp', 'out'), 'utf8')).toBe('hi\n');
    });

    it('drops to a user with its groups and changes to the workdir', async () => {
      const { code, lines } = await capture(
        command(['/bin/sh', '-c', 'id; pwd; touch mine'], {
          cwd: '/tmp',
          user: { uid: 1000, gid: 1000, groups: [50] },
        }),
      );
      expect({ code, lines }).toMatchObject({ code: 0 });
      expect(lines[0]).toBe('uid=1000(app) gid=1000(app) groups=50(staff),1000(app)');
      expect(lines[1]).toBe('/tmp');
      const info = await stat(join(root, 'tmp', 'mine'));
      expect([info.uid, info.gid]).toEqual([1000, 1000]);
    });

    it('gives the command its own pid namespace and /proc, and environment exactly as given', async () => {
      const { lines } = await capture(
        command(['/bin/sh', '-c', 'ls /proc | grep -c "^[0-9]"; echo "$FOO|$HOME"'], {
          env: [...env, 'FOO=bar'],
        }),
      );
      expect(Number(lines[0])).toBeLessThan(5);
      expect(lines[1]).toBe('bar|/root');
    });

    it("confines root to Docker's default capabilities, seccomp filter and no_new_privs", async () => {
      const { lines } = await capture(
        command([
          '/bin/sh',
          '-c',
          'grep -E "^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; ls -l /proc/self/fd/',
        ]),
      );
      expect(
        lines
          .filter((line) => /^l.* \d+ -> /.test(line))
          .map((line) => line.split(' -> ')[0]!.split(' ').at(-1)),
      ).toEqual(['0', '1', '2']);
      expect(lines).toEqual(
        expect.arrayContaining([
          'CapEff:\t00000000a80425fb',
          'CapPrm:\t00000000a80425fb',
          'CapBnd:\t00000000a80425fb',
          'NoNewPrivs:\t1',
          'Seccomp:\t2',
        ]),
      );
    });

    it('keeps root from climbing out of the stage root with chroot (it holds CAP_SYS_CHROOT)', async () => {
      const { execFileSync } = await import('node:child_process');
      const { mkdir, rmdir } = await import('node:fs/promises');
      const marker = await mkdtemp(join(tmpdir(), 'kiln-outside-'));
      const source = join(workDir, 'escape.c');
      await writeFile(
        source,
        `#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct stat st;
  mkdir("/esc", 0755);
  if (chroot("/esc") != 0) { puts("chroot-denied"); return 0; }
  for (int i = 0; i < 64; i++) chdir("..");
  chroot(".");
  puts(stat(argv[1], &st) == 0 ? "escaped" : "confined");
  return 0;
}
`,
      );
      await mkdir(join(root, 'opt'), { recursive: true });
      execFileSync('gcc', ['-static', '-O2', '-o', join(root, 'opt', 'escape'), source]);
      try {
        const { lines } = await capture(command(['/opt/escape', marker]));
        expect(lines).toEqual(['confined']);
      } finally {
        await rm(join(root, 'opt'), { recursive: true, force: true });
        await rm(join(root, 'esc'), { recursive: true, force: true });
        await rmdir(marker);
      }
    });

    it("keeps the host's /proc/sys and sysrq-trigger read-only and masks what Docker masks", async () => {
      // Opening for append writes nothing: it only shows whether a write would be allowed.
      const open = (path: string) =>
        `(: >> ${path}) 2>/dev/null && echo ${path}=writable || echo ${path}=refused`;
      const { lines } = await capture(
        command([
          '/bin/sh',
          '-c',
          [
            open('/proc/sys/kernel/core_pattern'),
            open('/proc/sysrq-trigger'),
            open('/proc/sys/fs/binfmt_misc/register'),
            'head -c 1 /proc/kcore >/dev/null 2>&1 && echo kcore=read || echo kcore=refused',
            'ls /proc/acpi 2>/dev/null | wc -l',
            open('/proc/self/oom_score_adj'),
          ].join('; '),
        ]),
      );
      expect(lines).toEqual([
        '/proc/sys/kernel/core_pattern=refused',
        '/proc/sysrq-trigger=refused',
        '/proc/sys/fs/binfmt_misc/register=refused',
        'kcore=refused',
        '0',
        '/proc/self/oom_score_adj=writable',
      ]);
    });

    it('gives a non-root user no capabilities', async () => {
      const { lines } = await capture(
        command(['/bin/sh', '-c', 'grep -E "^(CapEff|CapPrm|CapInh|CapAmb|Seccomp):" /proc/self/status'], {
          user: { uid: 1000, gid: 1000, groups: [] },
        }),
      );
      expect(lines).toEqual(
        expect.arrayContaining(['CapEff:\t0000000000000000', 'CapPrm:\t0000000000000000', 'Seccomp:\t2']),
      );
    });

    if (isolation === 'unshare') {
      it('refuses RUN without kiln-sandbox-exec, which alone can confine it here', async () => {
        const bare = new SandboxExecutor({ workDir, isolation, sandboxExec: null });
        await expect(bare.run(command(['/bin/true']))).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
      });
    }

    if (isolation === 'bwrap') {
      for (const kind of ['slirp4netns'] as const) {
        it(`network sandbox (${kind}): the host's loopback is out of reach, its other addresses are not`, async () => {
          const { createServer } = await import('node:net');
          const { networkInterfaces } = await import('node:os');
          const external = Object.values(networkInterfaces())
            .flat()
            .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;
          if (!external) throw new Error('needs a non-loopback IPv4 address');
          const server = createServer((socket) => socket.end('reached\n'));
          await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
          const port = (server.address() as { port: number }).port;
          const path = await findExecutable(kind);
          if (!path) throw new Error(`${kind} is not installed`);
          const sandboxed = new SandboxExecutor({
            workDir,
            isolation,
            network: 'sandbox',
            networkTool: { kind, path },
          });
          try {
            const probe = (host: string) =>
              `nc -w 3 ${host} ${port} </dev/null 2>/dev/null || echo unreachable`;
            const script = `${probe('127.0.0.1')}; ${probe(external)}; cat /etc/resolv.conf`;
            const { code, lines } = await capture(command(['/bin/sh', '-c', script]), sandboxed);
            expect({ code, lines }).toMatchObject({ code: 0 });
            expect(lines.slice(0, 2)).toEqual(['unreachable', 'reached']);
            expect(lines[2]).toMatch(/^nameserver /);
            // The step's own `--network=host` still gets the host's network.
            const host = await capture(
              command(['/bin/sh', '-c', probe('127.0.0.1')], { network: 'host' }),
              sandboxed,
            );
            expect(host.lines).toEqual(['reached']);
          } finally {
            server.close();
          }
        }, 20_000);
      }
    }

    it('cuts the network with network: none', async () => {
      const { lines } = await capture(
        command(['/bin/sh', '-c', 'cat /proc/net/dev | grep -c :'], { network: 'none' }),
      );
      expect(lines).toEqual(['1']); // lo only
    });

    it('leaves no mount points behind in the root', async () => {
      await capture(command(['/bin/echo']));
      expect(existsSync(join(root, 'etc', 'resolv.conf'))).toBe(false);
      expect(existsSync(join(root, 'proc'))).toBe(false);
      expect(existsSync(join(root, 'dev'))).toBe(false);
    });

    it('reports a missing command as the shell does (127-style non-zero)', async () => {
      const { code } = await capture(command(['/no/such/binary']));
      expect(code).not.toBe(0);
    });

    it('kills the command on abort', async () => {
      const controller = new AbortController();
      const started = Date.now();
      const running = executor.run(command(['/bin/sleep', '30']), { signal: controller.signal });
      setTimeout(() => controller.abort(), 200);
      expect(await running).toBeGreaterThan(128);
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it('mounts RUN --mount binds (ro and rw) and tmpfs for the command only, leaving no trace', async () => {
      const cache = join(workDir, `cache-${isolation}`);
      const source = join(workDir, `source-${isolation}`);
      const { mkdir } = await import('node:fs/promises');
      await mkdir(cache, { recursive: true });
      await mkdir(source, { recursive: true });
      await writeFile(join(source, 'input.txt'), 'input\n');
      const { code, lines } = await capture(
        command(
          [
            '/bin/sh',
            '-c',
            'cat /src/input.txt; echo cached > /var/cache/app/out; echo t > /scratch/t; touch /src/x 2>/dev/null || echo read-only',
          ],
          {
            mounts: [
              { kind: 'bind', source, target: '/src', readonly: true },
              { kind: 'bind', source: cache, target: '/var/cache/app', readonly: false },
              { kind: 'tmpfs', target: '/scratch' },
            ],
          },
        ),
      );
      expect({ code, lines }).toEqual({ code: 0, lines: ['input', 'read-only'] });
      expect(await readFile(join(cache, 'out'), 'utf8')).toBe('cached\n');
      for (const gone of ['src', 'var', 'scratch']) expect(existsSync(join(root, gone))).toBe(false);
    });

    it('places mount points through symlinks the root holds as a chroot would, never on the host', async () => {
      const host = await mkdtemp(join(tmpdir(), 'kiln-host-'));
      await writeFile(join(host, 'keep'), 'host\n');
      const { symlink, readdir, mkdir } = await import('node:fs/promises');
      const source = join(workDir, `bind-${isolation}`);
      await mkdir(source, { recursive: true });
      await writeFile(join(source, 'in'), 'bound\n');
      await symlink(host, join(root, 'abs'));
      await symlink(`../../../../../../..${host}`, join(root, 'rel'));
      try {
        const { code, lines } = await capture(
          command(['/bin/sh', '-c', 'cat /abs/m/in; echo t > /rel/t/x && ls /rel/t'], {
            mounts: [
              { kind: 'bind', source, target: '/abs/m', readonly: true },
              { kind: 'tmpfs', target: '/rel/t' },
            ],
          }),
        );
        expect({ code, lines }).toEqual({ code: 0, lines: ['bound', 'x'] });
        expect(await readdir(host)).toEqual(['keep']);
        // Created inside the root where the links lead there, and removed again.
        expect(existsSync(join(root, host))).toBe(false);
      } finally {
        await rm(join(root, 'abs'));
        await rm(join(root, 'rel'));
        await rm(host, { recursive: true, force: true });
      }
    });

    it('mounts a bind under /dev, where a #! heredoc script lives', async () => {
      const pipes = join(workDir, `pipes-${isolation}`);
      const { mkdir } = await import('node:fs/promises');
      await mkdir(pipes, { recursive: true });
      await writeFile(join(pipes, 'EOF'), '#!/bin/sh\necho "from $0"\n', { mode: 0o755 });
      const { code, lines } = await capture(
        command(['/bin/sh', '-c', '/dev/pipes/EOF'], {
          mounts: [{ kind: 'bind', source: pipes, target: '/dev/pipes', readonly: true }],
        }),
      );
      expect({ code, lines }).toEqual({ code: 0, lines: ['from /dev/pipes/EOF'] });
      expect(existsSync(join(root, 'dev', 'pipes'))).toBe(false);
    });
  });
}
