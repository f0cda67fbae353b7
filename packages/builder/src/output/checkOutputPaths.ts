import { checkOutputDirectory, resolveOutputTarget } from './outputTarget.ts';

/** Every output path a build writes, by flag. */
export interface OutputPaths {
  tarPath?: string;
  ociLayoutPath?: string;
  digestFile?: string;
  imageNameWithDigestFile?: string;
  imageNameTagWithDigestFile?: string;
  trace?: string;
}

const fileFlags = {
  tarPath: '--tar-path',
  digestFile: '--digest-file',
  imageNameWithDigestFile: '--image-name-with-digest-file',
  imageNameTagWithDigestFile: '--image-name-tag-with-digest-file',
  trace: '--trace',
} as const;

/**
 * Checks, before any work, that every output can be written: a file output's directory exists and
 * the path is not a directory (nor a socket or a dangling symlink); `--oci-layout-path` is a
 * directory or missing in an existing one. Throws one `OUTPUT_PATH_INVALID` error (exit 2), so a
 * typo costs no pull, build or push.
 */
export async function checkOutputPaths(paths: OutputPaths): Promise<void> {
  for (const [key, flag] of Object.entries(fileFlags) as [keyof typeof fileFlags, string][]) {
    const path = paths[key];
    if (path !== undefined) await resolveOutputTarget(flag, path);
  }
  if (paths.ociLayoutPath !== undefined) await checkOutputDirectory('--oci-layout-path', paths.ociLayoutPath);
}
