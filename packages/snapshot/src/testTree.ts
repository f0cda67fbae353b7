import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

const xattrHelperSource = fileURLToPath(new URL('../../../images/executor/xattr-helper.c', import.meta.url));

export const gcc = ['/usr/bin/gcc', '/usr/local/bin/gcc', '/bin/gcc'].find((candidate) =>
  existsSync(candidate),
);

/**
 * Compiles images/executor/xattr-helper.c the way the executor image does (static), into a temp dir;
 * `edit` changes the source first (say, to build one as it was before a mode existed).
 */
export function compileXattrHelper(edit?: (source: string) => string): {
  binary: string;
  remove: () => void;
} {
  if (gcc === undefined) throw new Error('gcc is needed to compile images/executor/xattr-helper.c');
  const temp = makeTempDir('kiln-xattr-helper-');
  const binary = path.join(temp.dir, 'kiln-xattr');
  let source = xattrHelperSource;
  if (edit !== undefined) {
    source = path.join(temp.dir, 'xattr-helper.c');
    writeFileSync(source, edit(readFileSync(xattrHelperSource, 'utf8')));
  }
  execFileSync(gcc, ['-static', '-O2', '-Wall', '-Werror', '-o', binary, source], { stdio: 'pipe' });
  return { binary, remove: temp.remove };
}
