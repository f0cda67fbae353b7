import type { BlobStore } from '@kiln/image';
import { extractLayer } from '@kiln/layer';
import type { StageLayer } from '../stage/stageState.ts';

/** Unpacks layers in order into a root (whiteouts applied; nothing may escape the root). */
export async function extractImageLayers(
  layers: StageLayer[],
  root: string,
  store: BlobStore,
  ignore: string[],
  signal?: AbortSignal,
): Promise<void> {
  const prefixes = ignore.map((path) => path.replace(/^\/+|\/+$/g, '')).filter(Boolean);
  const isIgnored = (path: string) =>
    prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  for (const layer of layers) {
    await extractLayer(store.path(layer.descriptor.digest), root, {
      mediaType: layer.descriptor.mediaType,
      ...(prefixes.length > 0 ? { ignore: isIgnored } : {}),
      ...(signal ? { signal } : {}),
    });
  }
}
