import { chmod, copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type ExecutorArchitecture, ensureArchitectureRuntime } from '@kiln/executor-image';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { runChecked, runKiln } from '../kilnProcess.ts';

/**
 * A busybox base image of `architecture` (Debian's busybox-static of that architecture, applet links,
 * root in /etc/passwd), built by `kiln build --custom-platform linux/<architecture>` of `FROM scratch` +
 * COPY (no RUN, so nothing is emulated) and pushed as `HOST/kiln/busybox-<architecture>:1`. Its RUN
 * steps execute that architecture's busybox: natively for that executor, through qemu on this machine.
 */
export async function pushBusyboxBase(
  registry: TestRegistry,
  architecture: ExecutorArchitecture,
  workDir: string,
): Promise<PushedImage> {
  const context = join(workDir, `busybox-${architecture}`);
  await rm(context, { recursive: true, force: true });
  const rootfs = join(context, 'rootfs');
  for (const sub of ['bin', 'etc', 'root', 'tmp']) await mkdir(join(rootfs, sub), { recursive: true });
  const { busybox } = await ensureArchitectureRuntime(architecture);
  await copyFile(busybox, join(rootfs, 'bin/busybox'));
  await chmod(join(rootfs, 'bin/busybox'), 0o755);
  await chmod(join(rootfs, 'tmp'), 0o1777);
  // `--list-full` runs the foreign busybox through qemu's binfmt_misc entry.
  for (const applet of (await runChecked(busybox, ['--list-full'])).split('\n')) {
    if (applet === '' || applet === 'bin/busybox' || !/^[\w/.[-]+$/.test(applet)) continue;
    await mkdir(join(rootfs, dirname(applet)), { recursive: true });
    const depth = applet.split('/').length - 1;
    await symlink(`${'../'.repeat(depth)}bin/busybox`, join(rootfs, applet));
  }
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\n');
  await writeFile(
    join(context, 'Dockerfile'),
    'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCMD ["sh"]\n',
  );
  const reference = `${registry.host}/kiln/busybox-${architecture}:1`;
  const digestFile = join(workDir, `busybox-${architecture}.digest`);
  const build = await runKiln([
    'build',
    '--context',
    context,
    '--custom-platform',
    `linux/${architecture}`,
    '--destination',
    reference,
    '--digest-file',
    digestFile,
    '--insecure-registry',
    registry.host,
  ]);
  if (build.code !== 0) throw new Error(`kiln build of the ${architecture} busybox base: ${build.stderr}`);
  return { reference, digest: (await runChecked('cat', [digestFile])).trim() };
}
