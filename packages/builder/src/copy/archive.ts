import { basename } from 'node:path';
import { isKilnError, KilnError } from '@kiln/errors';
import { extractArchive as extractInsideRoot, isTarArchive, type LayerEvent } from '@kiln/layer';

/**
 * Whether ADD unpacks a file: a tar, plain or gzip, bzip2, xz or zstd compressed, decided by
 * content as BuildKit does (it decompresses and its first tar header reads). Anything else,
 * a compressed file that is not a tar included, is copied as it is.
 */
export function isLocalArchive(path: string): Promise<boolean> {
  return isTarArchive(path);
}

export interface ExtractOptions {
  /** `ADD --chown`: replaces the archive's owners on every entry. */
  owner?: { uid: number; gid: number };
  /** The in-image destination, to name it in messages instead of a host path. */
  imageDir?: string;
  /** Stops the extraction between chunks (a build interrupted by a signal). */
  signal?: AbortSignal;
  /** What the extractor reports (xattrs it could not set). */
  onEvent?: (event: LayerEvent) => void;
}

/**
 * Unpacks an archive into a host directory (the ADD destination) with Kiln's own extractor, every
 * path confined to that directory as BuildKit's chroot there would see it. Owners, modes and times
 * come from the archive (`--chmod` does not apply, as in BuildKit). Returns the paths written,
 * relative to `hostDir` and free of symlinks.
 */
export async function extractArchive(
  archive: string,
  hostDir: string,
  where: string,
  options: ExtractOptions = {},
): Promise<string[]> {
  try {
    const result = await extractInsideRoot(archive, hostDir, {
      ...(options.owner ? { owner: options.owner } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    return result.paths;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const raw = error instanceof Error ? error.message : String(error);
    const reason = raw.split(hostDir).join(options.imageDir ?? '');
    const unsafe = isKilnError(error) && error.code === 'LAYER_UNSAFE_PATH';
    throw new KilnError(
      unsafe ? 'ADD_UNSAFE_PATH' : 'ADD_EXTRACT_FAILED',
      `${where}: cannot unpack ${basename(archive)}: ${reason}`,
      {
        cause: error,
        hint: unsafe
          ? 'the archive writes outside its destination through ".." or a symlink; Kiln refuses it'
          : 'the archive is corrupt, truncated, or holds entries that cannot be created there',
      },
    );
  }
}
