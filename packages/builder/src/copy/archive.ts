import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { KilnError } from '@kiln/errors';

/** Whether a file is a tar archive ADD unpacks: plain, gzip, bzip2 or xz (by content, as Docker). */
export async function isLocalArchive(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const header = Buffer.alloc(512);
    const { bytesRead } = await handle.read(header, 0, 512, 0);
    if (bytesRead >= 2 && header[0] === 0x1f && header[1] === 0x8b) return true;
    if (bytesRead >= 3 && header.subarray(0, 3).toString('latin1') === 'BZh') return true;
    if (bytesRead >= 6 && header.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
      return true;
    }
    return bytesRead >= 262 && header.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await handle.close();
  }
}

/**
 * Unpacks an archive into a host directory with the system tar (owners and modes kept, as ADD
 * does; GNU tar refuses members with `..` or absolute names). Returns the member paths.
 */
export async function extractArchive(
  archive: string,
  hostDir: string,
  where: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const members = (await runTar(['-t', '-f', archive], where, signal)).split('\n').filter(Boolean);
  await runTar(
    ['-x', '-f', archive, '-C', hostDir, '--same-owner', '--numeric-owner', '-p', '--overwrite'],
    where,
    signal,
  );
  return members.map((member) => member.replace(/^\.?\/+/, '').replace(/\/+$/, '')).filter(Boolean);
}

function runTar(args: string[], where: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    // An abort kills tar (SIGTERM) and rejects with the signal's reason.
    const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', (error) => reject(signal?.aborted ? signal.reason : error));
    child.on('close', (code) => {
      if (signal?.aborted) reject(signal.reason);
      else if (code === 0) resolve(out);
      else reject(new KilnError('ADD_EXTRACT_FAILED', `${where}: cannot unpack the archive: ${err.trim()}`));
    });
  });
}
