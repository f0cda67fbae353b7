import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { httpDownload } from './httpDownload.ts';

/** A Dockerfile is text: a megabyte is far beyond any real one. */
const maxDockerfileBytes = 1024 ** 2;

/** Whether `--dockerfile` names a URL, which Kaniko (executor and warmer) fetches as is. */
export function isDockerfileUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

/** A Dockerfile fetched from an http(s) URL, through a file in `workDir` (gone afterwards). */
export async function downloadDockerfile(
  url: string,
  workDir: string,
  signal?: AbortSignal,
): Promise<string> {
  const dir = await mkdtemp(join(workDir, 'dockerfile-'));
  try {
    const file = join(dir, 'Dockerfile');
    await httpDownload(url, file, maxDockerfileBytes, signal);
    return await readFile(file, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
