import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ProcessResult, runProcess } from '@kiln/fixtures/images';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const contextsDir = join(import.meta.dirname, 'contexts');

/** Runs the real `kiln` CLI (from source, on this Node) as a child process. */
export function runKiln(args: string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot): Promise<ProcessResult> {
  return runProcess(process.execPath, [join(repoRoot, 'packages/cli/src/main.ts'), ...args], {
    cwd,
    env: { ...process.env, CI: '1', ...env },
    timeoutMs: 240_000,
  });
}

/** skopeo against the plain-HTTP test registry. */
export async function skopeoInspect(reference: string, config = false): Promise<ProcessResult> {
  return runProcess('skopeo', [
    'inspect',
    '--tls-verify=false',
    ...(config ? ['--config', '--raw'] : []),
    `docker://${reference}`,
  ]);
}

/** Copies an image into an OCI layout and unpacks it with umoci; returns the rootfs path. */
export async function unpackWithUmoci(source: string, workDir: string): Promise<string> {
  await mkdir(workDir, { recursive: true });
  const layout = join(workDir, 'layout');
  const rootfs = join(workDir, 'rootfs');
  await runChecked('skopeo', ['copy', '--src-tls-verify=false', source, `oci:${layout}:img`]);
  // `raw unpack`: the tree only; a runtime config would need USER to exist in /etc/passwd.
  await runChecked('umoci', ['raw', 'unpack', '--image', `${layout}:img`, rootfs]);
  return rootfs;
}

export async function runChecked(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<string> {
  const result = await runProcess(command, args, { ...options, timeoutMs: 600_000 });
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
  return result.stdout;
}
