import { mkdir } from 'node:fs/promises';
import { isKilnError, KilnError } from '@kiln/errors';
import { extractArchive } from '@kiln/layer';

/**
 * Unpacks a context tarball (any compression `ADD` knows) into `dir` with Kiln's own extractor, never
 * the host's tar: entries are confined to `dir` as in a chroot, and a name or link that climbs out is
 * refused (`LAYER_UNSAFE_PATH`). Owners are not kept: the context is input, not a layer.
 */
export async function unpackContext(archive: string, dir: string, what: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  try {
    await extractArchive(archive, dir, { preserveOwnership: false });
  } catch (error) {
    if (
      isKilnError(error) &&
      (error.code === 'LAYER_UNSAFE_PATH' || error.code === 'LAYER_UNSUPPORTED_ENTRY')
    )
      throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new KilnError('CONTEXT_UNPACK_FAILED', `cannot unpack context ${what}: ${reason}`, {
      hint: 'a tarball context must be a tar archive, optionally compressed (gzip, bzip2, xz, zstd)',
      cause: error,
    });
  }
}
