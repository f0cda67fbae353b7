import type { BlobStore, Platform } from '@kiln/image';
import { parseReference } from '@kiln/image';
import { pullImage, type RegistryClient } from '@kiln/registry';
import type { ImageSource, PulledImage } from '../base/imageSource.ts';
import { storedBaseImage } from '../base/storedBaseImage.ts';
import type { RemoteBlobs } from './remoteBlobs.ts';

/**
 * Base images pulled as manifest and config only: the layers stay in the registry until a root
 * must be materialised, so a fully cached build never downloads them. A digest-pinned base whose
 * manifest and config are in the store is not asked of the registry at all (offline builds).
 */
export function lazyRegistryImageSource(
  client: RegistryClient,
  store: BlobStore,
  remote: RemoteBlobs,
): ImageSource {
  return {
    async pull(text: string, platform: Platform): Promise<PulledImage> {
      const reference = parseReference(text);
      const stored = await storedBaseImage(store, reference, platform);
      if (stored) {
        // Layers missing from the store are fetched from the registry when a root needs them.
        for (const layer of stored.manifest.layers) remote.note(layer.digest, reference);
        return stored;
      }
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
