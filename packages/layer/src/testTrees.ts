import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

// Test helper (not exported from the package): a small tree with every kind of entry a layer carries.

export const longDir = `${'d'.repeat(120)}/${'é'.repeat(30)}`;

export function makeTree(root: string, mtime = 1_700_000_000): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'dev'), { recursive: true });
  mkdirSync(join(root, longDir), { recursive: true });
  writeFileSync(join(root, 'etc/hello'), 'hello\n');
  writeFileSync(join(root, 'usr/bin/tool'), Buffer.alloc(3 * 1024 * 1024 + 17, 0x61));
  chmodSync(join(root, 'usr/bin/tool'), 0o4755);
  writeFileSync(join(root, 'etc/secret'), 'secret');
  chmodSync(join(root, 'etc/secret'), 0o600);
  chownSync(join(root, 'etc/secret'), 3_000_000, 3_000_001);
  linkSync(join(root, 'usr/bin/tool'), join(root, 'usr/bin/tool-alias'));
  symlinkSync('../usr/bin/tool', join(root, 'etc/tool-link'));
  symlinkSync(`/${'x'.repeat(150)}`, join(root, 'etc/long-link'));
  writeFileSync(join(root, longDir, 'file'), 'deep');
  execFileSync('mkfifo', [join(root, 'dev/fifo')]);
  execFileSync('mknod', [join(root, 'dev/null'), 'c', '1', '3']);
  execFileSync('mknod', [join(root, 'dev/loop9'), 'b', '7', '9']);
  chmodSync(join(root, 'dev/null'), 0o666);
  setTimes(root, mtime, ['etc/tool-link', 'etc/long-link']);
}

/** Sets every mtime in the tree (symlinks without following), deepest first. */
export function setTimes(root: string, mtime: number, symlinks: string[]): void {
  const paths = execFileSync('find', [root, '-depth', '-not', '-type', 'l'], { encoding: 'utf8' }).split(
    '\n',
  );
  for (const link of symlinks) lutimesSync(join(root, link), mtime, mtime);
  for (const path of paths) if (path !== '') utimesSync(path, mtime, mtime);
}

/** `find` listing of a tree: path, type, mode, owner, size (files), mtime, link target. Tools, not Kiln. */
export function listTree(root: string): string[] {
  const out = execFileSync(
    'find',
    ['.', '-mindepth', '1', '-printf', '%p %y %m %U:%G %s %TY-%Tm-%Td %TH:%TM:%.2TS %l\\n'],
    { cwd: root, encoding: 'utf8' },
  );
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      // Sizes of directories depend on the file system, not on the layer.
      const parts = line.split(' ');
      if (parts[1] === 'd' || parts[1] === 'l') parts[4] = '-';
      return parts.join(' ');
    })
    .sort();
}
