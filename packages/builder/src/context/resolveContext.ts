import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { KilnError } from '@kiln/errors';
import { resolveInRootSync } from '@kiln/layer';
import spawn, { SubprocessError } from 'nano-spawn';

/**
 * The context directory for `--context`: a directory (`dir://` optional) is used in place and
 * never modified; a tarball (`tar://`, `.tar`, `.tar.gz`, `.tgz`) is unpacked under the work dir.
 */
export async function resolveContext(text: string, workDir: string, cwd = process.cwd()): Promise<string> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'dir' && scheme !== 'tar') {
    throw new KilnError(
      'UNSUPPORTED_CONTEXT',
      `--context ${text}: ${scheme}:// contexts are not supported by Kiln`,
      {
        hint: 'fetch the context first and pass a directory or a .tar.gz',
      },
    );
  }
  const path = resolve(cwd, scheme === undefined ? text : text.slice(scheme.length + 3));
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new KilnError('CONTEXT_NOT_FOUND', `build context ${path} does not exist`);
  }
  if (info.isDirectory()) {
    if (scheme === 'tar') throw new KilnError('CONTEXT_NOT_TAR', `--context tar://${path} is a directory`);
    return path;
  }
  if (scheme === 'tar' || /\.(tar|tar\.gz|tgz)$/i.test(path)) {
    const dir = join(workDir, 'context');
    await mkdir(dir, { recursive: true });
    await untar(path, dir);
    return dir;
  }
  throw new KilnError('CONTEXT_NOT_DIR', `build context ${path} is neither a directory nor a tarball`);
}

/**
 * The Dockerfile path as Kaniko finds it: absolute as given; relative to the working directory
 * when it exists there, else relative to the context; default `<context>/Dockerfile`. A path that
 * lies in the context is resolved inside it as a chroot would: the context's own links are
 * untrusted, so a `Dockerfile -> /etc/shadow` there never reads the host's file. A path the user
 * names outside the context is theirs to name.
 */
export function resolveDockerfilePath(
  dockerfile: string | undefined,
  contextDir: string,
  cwd = process.cwd(),
): string {
  const inContext = (path: string): string => {
    const inside = relative(contextDir, path);
    if (inside === '..' || inside.startsWith('../') || isAbsolute(inside)) return path;
    const resolved = resolveInRootSync(contextDir, inside);
    if (resolved !== path && !existsSync(resolved)) {
      // Named as given: the link's target is the context's text, and may spell a host path.
      throw new KilnError(
        'DOCKERFILE_NOT_FOUND',
        `cannot read Dockerfile ${path}: it links to nothing in the context`,
        {
          hint: 'a Dockerfile in the context may link only to a file inside the context',
        },
      );
    }
    return resolved;
  };
  if (dockerfile === undefined) return inContext(join(contextDir, 'Dockerfile'));
  if (isAbsolute(dockerfile)) return inContext(dockerfile);
  const fromCwd = resolve(cwd, dockerfile);
  if (existsSync(fromCwd)) return inContext(fromCwd);
  return inContext(resolve(contextDir, dockerfile));
}

async function untar(archive: string, dir: string): Promise<void> {
  try {
    await spawn('tar', ['-x', '-f', archive, '-C', dir, '--no-same-owner'], { stdin: 'ignore' });
  } catch (error) {
    const reason = error instanceof SubprocessError && error.stderr !== '' ? error.stderr : String(error);
    throw new KilnError('CONTEXT_UNPACK_FAILED', `cannot unpack context ${archive}: ${reason.trim()}`, {
      cause: error,
    });
  }
}
