import { createHash } from 'node:crypto';

export interface CacheKeyInput {
  parent: string;
  /** The instruction as expanded (kind and words). */
  instruction: string;
  /** Build args and env the step sees, `K=V`, in order. */
  args: string[];
  env: string[];
  user: string;
  workdir: string;
  shell: string[];
  /** COPY/ADD: sha256 over the sources' names, modes and content (after .dockerignore). */
  sourcesHash?: string;
  /**
   * The platform the stage builds for (`linux/arm64`), as BuildKit's ops carry theirs: a base
   * without an image for the platform resolves to the same digest for each, and the same step
   * must still not share a result between platforms.
   */
  platform?: string;
}

/**
 * The key a layer cache stores a step under: everything that can change the step's result.
 * A base image enters as its manifest digest (the first parent).
 */
export function stepCacheKey(input: CacheKeyInput): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify([
      input.parent,
      input.instruction,
      input.args,
      input.env,
      input.user,
      input.workdir,
      input.shell,
      input.sourcesHash ?? '',
      ...(input.platform === undefined ? [] : [input.platform]),
    ]),
  );
  return `sha256:${hash.digest('hex')}`;
}
