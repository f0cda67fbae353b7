import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A tree outside every build's own directories that a hostile build tries to reach: a mode-600
 * secret, a plain file, a nested directory. `fingerprint()` hashes every path, type, mode, owner,
 * mtime and content, so a test asserts "nothing outside the build changed" by comparing two
 * fingerprints, and "nothing leaked" by grepping outputs for `secretText`.
 */
export interface SentinelTree {
  dir: string;
  /** The content of `secret.txt`, unique per tree, to grep layers and logs for. */
  secretText: string;
  fingerprint(): Promise<string>;
}

export async function createSentinelTree(parent = tmpdir()): Promise<SentinelTree> {
  const dir = await mkdtemp(join(parent, 'kiln-sentinel-'));
  const secretText = `kiln-sentinel-secret-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`;
  await writeFile(join(dir, 'secret.txt'), `${secretText}\n`);
  await chmod(join(dir, 'secret.txt'), 0o600);
  await writeFile(join(dir, 'plain.txt'), 'untouched\n');
  await mkdir(join(dir, 'nested', 'deeper'), { recursive: true });
  await writeFile(join(dir, 'nested', 'deeper', 'file'), 'deep\n');
  return { dir, secretText, fingerprint: () => fingerprintTree(dir) };
}

/** sha256 over every entry below `root`: relative path, type, mode, uid, gid, mtime, content or target. */
export async function fingerprintTree(root: string): Promise<string> {
  const hash = createHash('sha256');
  const visit = async (relative: string): Promise<void> => {
    const path = join(root, relative);
    const info = await lstat(path);
    hash.update(`${relative}\0${info.mode}\0${info.uid}\0${info.gid}\0${info.mtimeMs}\0`);
    if (info.isFile()) hash.update(await readFile(path));
    else if (info.isSymbolicLink()) hash.update(await readlink(path));
    else if (info.isDirectory()) {
      for (const name of (await readdir(path)).sort())
        await visit(relative === '' ? name : `${relative}/${name}`);
    }
    hash.update('\n');
  };
  await visit('');
  return hash.digest('hex');
}
