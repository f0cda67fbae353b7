import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const applets = [
  'sh',
  'id',
  'ls',
  'cat',
  'echo',
  'pwd',
  'touch',
  'mkdir',
  'stat',
  'cut',
  'grep',
  'sleep',
  'wc',
  'tr',
];

/**
 * A minimal real root for tests: the host's static busybox, an app user (1000) in two groups.
 * Tests that need it skip when the host has no static busybox.
 */
export async function createBusyboxRoot(root: string, busybox = '/usr/bin/busybox'): Promise<void> {
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(root, 'tmp'), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await copyFile(busybox, join(root, 'bin', 'busybox'));
  for (const applet of applets) await symlink('busybox', join(root, 'bin', applet));
  await writeFile(
    join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n',
  );
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n');
}
