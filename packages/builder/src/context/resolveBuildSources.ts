import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import type { BuildRequest } from '../buildRequest.ts';
import { httpDownload } from './httpDownload.ts';
import { resolveContext, resolveDockerfilePath } from './resolveContext.ts';

/** A Dockerfile is text: a megabyte is far beyond any real one. */
const maxDockerfileBytes = 1024 ** 2;

export interface BuildSources {
  contextDir: string;
  /** The Dockerfile on disk, when it is a file (not stdin, not a URL). */
  dockerfilePath: string | undefined;
  dockerfileText: string;
}

/** The context directory and the Dockerfile's text, from wherever the request names them. */
export async function resolveBuildSources(
  request: BuildRequest,
  workDir: string,
  signal?: AbortSignal,
): Promise<BuildSources> {
  const contextDir = await resolveContext(request.context, workDir, {
    ...(request.contextSubPath === undefined ? {} : { subPath: request.contextSubPath }),
    ...(request.git === undefined ? {} : { git: request.git }),
    ...(signal ? { signal } : {}),
  });
  if (request.dockerfileText !== undefined) {
    return { contextDir, dockerfilePath: undefined, dockerfileText: request.dockerfileText };
  }
  if (request.dockerfile !== undefined && /^https?:\/\//i.test(request.dockerfile)) {
    // Kaniko fetches a Dockerfile URL as is; it is then text like one read from stdin.
    const file = join(workDir, 'Dockerfile.download');
    await httpDownload(request.dockerfile, file, maxDockerfileBytes, signal);
    const dockerfileText = await readFile(file, 'utf8');
    await rm(file, { force: true });
    return { contextDir, dockerfilePath: undefined, dockerfileText };
  }
  const dockerfilePath = resolveDockerfilePath(request.dockerfile, contextDir);
  return { contextDir, dockerfilePath, dockerfileText: await readDockerfile(dockerfilePath) };
}

async function readDockerfile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new KilnError('DOCKERFILE_NOT_FOUND', `cannot read Dockerfile ${path}`, {
      hint: 'pass --dockerfile (relative paths are tried against the working directory, then the context)',
    });
  }
}
