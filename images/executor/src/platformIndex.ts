import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { type ImageRegistry, registryUsesTls } from '@kiln/fixtures/images';
import { MediaType, parseReference } from '@kiln/image';
import { createRegistryClient, getManifest, loadDockerConfig, putManifest } from '@kiln/registry';
import type { ExecutorArchitecture } from './architectures.ts';

export interface PlatformManifest {
  architecture: ExecutorArchitecture;
  /** The digest of that platform's image manifest, already in `repository`. */
  digest: string;
}

/**
 * Pushes an image index naming one manifest per platform (all already pushed to `repository`) as
 * `repository:tag`, and returns its digest. An OCI index for OCI manifests, a Docker manifest list for
 * Docker ones, each entry with its `platform` (linux/<architecture>).
 *
 * Stands in for `kiln build --platform linux/amd64,linux/arm64`, which pushes such an index itself;
 * `buildPlatformsThenIndex` in executorImage.ts is the only caller.
 */
export async function pushPlatformIndex(
  registry: ImageRegistry,
  repository: string,
  tag: string,
  platforms: PlatformManifest[],
): Promise<string> {
  const client = createRegistryClient({
    ...(registryUsesTls(registry) ? {} : { insecureRegistries: [registry.host] }),
    ...(registry.caFile === undefined ? {} : { certificates: { [registry.host]: registry.caFile } }),
    ...(registry.dockerConfigDir === undefined
      ? {}
      : { credentials: await loadDockerConfig({ file: join(registry.dockerConfigDir, 'config.json') }) }),
  });
  try {
    const manifests = [];
    for (const platform of platforms) {
      const fetched = await getManifest(client, parseReference(`${repository}@${platform.digest}`));
      if (fetched === undefined) {
        throw new KilnError(
          'EXECUTOR_IMAGE_INDEX',
          `${repository}@${platform.digest} (linux/${platform.architecture}) is not in the registry`,
        );
      }
      manifests.push({
        mediaType: fetched.mediaType,
        digest: fetched.digest,
        size: fetched.bytes.length,
        platform: { architecture: platform.architecture, os: 'linux' },
      });
    }
    const docker = manifests.every((entry) => entry.mediaType === MediaType.dockerManifest);
    const mediaType = docker ? MediaType.dockerManifestList : MediaType.ociIndex;
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests }));
    return await putManifest(client, parseReference(`${repository}:${tag}`), bytes, mediaType);
  } finally {
    await client.close();
  }
}
