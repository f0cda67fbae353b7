import { createHash } from 'node:crypto';
import { utimes, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { KilnError } from '@kiln/errors';

export interface Download {
  path: string;
  fileName: string;
  sha256: string;
}

/** ADD <url>: fetches into `path`, verifying `--checksum=sha256:…` when given. */
export async function downloadSource(
  url: string,
  path: string,
  checksum: string | undefined,
  where: string,
  signal?: AbortSignal,
): Promise<Download> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new KilnError('ADD_DOWNLOAD_FAILED', `${where}: cannot fetch ${url}`, { cause: error });
  }
  if (!response.ok) {
    throw new KilnError('ADD_DOWNLOAD_FAILED', `${where}: fetching ${url} answered ${response.status}`);
  }
  const body = Buffer.from(await response.arrayBuffer());
  const sha256 = createHash('sha256').update(body).digest('hex');
  if (checksum !== undefined && checksum !== `sha256:${sha256}`) {
    throw new KilnError(
      'ADD_CHECKSUM_MISMATCH',
      `${where}: ${url} has digest sha256:${sha256}, not ${checksum}`,
    );
  }
  await writeFile(path, body, { mode: 0o600 });
  const modified = response.headers.get('last-modified');
  if (modified) {
    const time = new Date(modified);
    if (!Number.isNaN(time.getTime())) await utimes(path, time, time);
  }
  const fileName = posix.basename(new URL(url).pathname) || 'index.html';
  return { path, fileName, sha256 };
}
