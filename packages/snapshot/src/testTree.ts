import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A temp dir for one test; `remove` deletes it. Only tests import this file. */
export function makeTempDir(prefix = 'kiln-snapshot-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes files (string content) and dirs (`null`) under root, creating parents. */
export function writeTree(root: string, tree: Record<string, string | null>): void {
  for (const [rel, content] of Object.entries(tree)) {
    const abs = path.join(root, rel);
    if (content === null) mkdirSync(abs, { recursive: true });
    else {
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, content);
    }
  }
}

export function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: 'ignore' });
}

export function setXattr(file: string, name: string, value: string): void {
  run('python3', [
    '-c',
    'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())',
    file,
    name,
    value,
  ]);
}
