import type { BlobStore, Platform } from '@kiln/image';
import { parseReference } from '@kiln/image';
import { pullImage, type RegistryClient } from '@kiln/registry';
import type { ImageSource, PulledImage } from './imageSource.ts';

/** Base images pulled from registries (mirrors, auth and TLS are the client's). */
export function registryImageSource(client: RegistryClient, store: BlobStore): ImageSource {
  return {
    async pull(text: string, platform: Platform): Promise<PulledImage> {
      const reference = parseReference(text);
      const pulled = await pullImage(client, reference, { store, platform, fetchLayers: true });
      return {
        reference: reference.toString(),
        digest: pulled.manifestDigest,
        manifest: pulled.manifest,
        config: pulled.config,
      };
    },
  };
}
