import { KilnError } from '@kiln/errors';
import type { BlobStore } from '@kiln/image';
import { extractLayer, type LayerEvent, type TarReadHeader } from '@kiln/layer';
import type { StageLayer } from '../stage/stageState.ts';

/**
 * Unpacks layers in order into a root (whiteouts applied; nothing may escape the root). Each blob
 * is verified against its digest as it streams from the store: a blob changed on disk (the store
 * is shared across builds) fails the build with BLOB_CORRUPT and is dropped so it is fetched anew.
 * `options.onEvent` hears what the extractor reports (xattrs it could not restore, ignored paths).
 */
export async function extractImageLayers(
  layers: StageLayer[],
  root: string,
  store: BlobStore,
  ignore: string[],
  options: {
    signal?: AbortSignal;
    onEvent?: (event: LayerEvent) => void;
    /** Only the entries it accepts (see ExtractLayerOptions.select). */
    select?: (path: string, header: TarReadHeader) => boolean;
  } = {},
): Promise<void> {
  const prefixes = ignore.map((path) => path.replace(/^\/+|\/+$/g, '')).filter(Boolean);
  const isIgnored = (path: string) =>
    prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  // What the selection throws (it gives up) says nothing about the blob: no need to verify it.
  let refusal: unknown;
  const { select } = options;
  const guarded =
    select &&
    ((path: string, header: TarReadHeader) => {
      try {
        return select(path, header);
      } catch (error) {
        refusal = error;
        throw error;
      }
    });
  for (const layer of layers) {
    const { digest } = layer.descriptor;
    try {
      await extractLayer(await store.open(digest), root, {
        mediaType: layer.descriptor.mediaType,
        ...(prefixes.length > 0 ? { ignore: isIgnored } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        ...(guarded ? { select: guarded } : {}),
      });
    } catch (error) {
      if (refusal !== undefined && error === refusal) throw error;
      const blobError = corruptionIn(error);
      if (blobError !== undefined) throw blobError;
      if (error instanceof KilnError && error.code === 'BLOB_NOT_FOUND') throw error;
      // Corrupt bytes usually break the gzip or the tar before the end: tell that apart from a bad layer.
      await store.verify(digest);
      throw error;
    }
  }
}

function corruptionIn(error: unknown): KilnError | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (current instanceof KilnError && current.code === 'BLOB_CORRUPT') return current;
  }
  return undefined;
}
