import { readFile } from 'node:fs/promises';
import { KilnError } from '@kiln/errors';
import type { BuildRequest } from '../buildRequest.ts';
import { downloadDockerfile, isDockerfileUrl } from './downloadDockerfile.ts';
import { resolveContext, resolveDockerfilePath } from './resolveContext.ts';

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
  if (request.dockerfile !== undefined && isDockerfileUrl(request.dockerfile)) {
    // Then it is text like one read from stdin.
    const dockerfileText = await downloadDockerfile(request.dockerfile, workDir, signal);
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
