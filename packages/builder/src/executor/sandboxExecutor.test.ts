import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBusyboxRoot } from '../testing/busyboxRoot.ts';
import type { ExecCommand } from './executor.ts';
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
      network: 'host',
      ...extra,
    });

    async function capture(cmd: ExecCommand): Promise<{ code: number; lines: string[] }> {
      const lines: string[] = [];
      const code = await executor.run(cmd, { onOutput: (line) => lines.push(line) });
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

    it('resetRoot empties the root', async () => {
      const other = await executor.prepareRoot({ index: 1, name: 'x/y' });
      await writeFile(join(other, 'f'), 'x');
      await executor.resetRoot(other);
      expect(existsSync(join(other, 'f'))).toBe(false);
      expect(existsSync(other)).toBe(true);
    });
  });
}
