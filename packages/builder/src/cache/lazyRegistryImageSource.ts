import type { BlobStore, Platform } from '@kiln/image';
import { parseReference } from '@kiln/image';
import { pullImage, type RegistryClient } from '@kiln/registry';
import type { ImageSource, PulledImage } from '../base/imageSource.ts';
import type { RemoteBlobs } from './remoteBlobs.ts';

/**
 * Base images pulled as manifest and config only: the layers stay in the registry until a root
 * must be materialised, so a fully cached build never downloads them.
 */
export function lazyRegistryImageSource(
  client: RegistryClient,
  store: BlobStore,
  remote: RemoteBlobs,
): ImageSource {
  return {
    async pull(text: string, platform: Platform): Promise<PulledImage> {
      const reference = parseReference(text);
      const pulled = await pullImage(client, reference, { store, platform, fetchLayers: false });
      for (const layer of pulled.manifest.layers) remote.note(layer.digest, pulled.source);
      return {
        reference: reference.toString(),
        digest: pulled.manifestDigest,
        manifest: pulled.manifest,
        config: pulled.config,
      };
    },
  };
}
