import { KilnError } from '@kiln/errors';
import type { BlobStore, Platform } from '@kiln/image';
import { readOciLayout } from '@kiln/image';
import type { ImageSource, PulledImage } from './imageSource.ts';

export interface LayoutBase {
  dir: string;
  tag?: string;
}

/**
 * Base images read from OCI layout directories, keyed by the reference a FROM line uses.
 * Blobs are copied into the build's store, as a registry pull would put them there.
 */
export function ociLayoutImageSource(layouts: Record<string, LayoutBase>, store: BlobStore): ImageSource {
  return {
    async pull(reference: string, platform: Platform): Promise<PulledImage> {
      const layout = layouts[reference];
      if (!layout) {
        throw new KilnError('BASE_NOT_FOUND', `base image "${reference}" not found`, {
          hint: `known images: ${Object.keys(layouts).join(', ') || '(none)'}`,
        });
      }
      const image = await readOciLayout(layout.dir, layout.tag, { platform });
      for (const layer of image.manifest.layers) await store.copyFrom(image.store, layer.digest);
      await store.copyFrom(image.store, image.manifest.config.digest);
      return { reference, digest: image.manifestDigest, manifest: image.manifest, config: image.config };
    },
  };
}
