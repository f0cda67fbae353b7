import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { type ImageRegistry, registryUsesTls } from '@kiln/fixtures/images';
import { isIndexMediaType, parseIndex, parseReference } from '@kiln/image';
import { createRegistryClient, getManifest, loadDockerConfig } from '@kiln/registry';
import type { ExecutorArchitecture } from './architectures.ts';

export interface PlatformManifest {
  architecture: ExecutorArchitecture;
  /** The digest of that platform's image manifest. */
  digest: string;
}

/**
 * The per-platform manifests of the image index at `reference@digest` (what `kiln build --platform
 * linux/amd64,linux/arm64` pushed), read back from the registry so callers can name each image.
 */
export async function readPlatformIndex(
  registry: ImageRegistry,
  reference: string,
  digest: string,
): Promise<PlatformManifest[]> {
  const client = createRegistryClient({
    ...(registryUsesTls(registry) ? {} : { insecureRegistries: [registry.host] }),
    ...(registry.caFile === undefined ? {} : { certificates: { [registry.host]: registry.caFile } }),
    ...(registry.dockerConfigDir === undefined
      ? {}
      : { credentials: await loadDockerConfig({ file: join(registry.dockerConfigDir, 'config.json') }) }),
  });
  try {
    const repository = parseReference(reference);
    const fetched = await getManifest(
      client,
      parseReference(`${repository.registry}/${repository.repository}@${digest}`),
    );
    if (fetched === undefined || !isIndexMediaType(fetched.mediaType)) {
      throw new KilnError(
        'EXECUTOR_IMAGE_INDEX',
        `${reference}@${digest} is not an image index in the registry`,
      );
    }
    return parseIndex(JSON.parse(fetched.bytes.toString('utf8'))).manifests.map((entry) => ({
      architecture: entry.platform?.architecture as ExecutorArchitecture,
      digest: entry.digest,
    }));
  } finally {
    await client.close();
  }
}
