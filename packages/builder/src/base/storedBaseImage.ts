import {
  type BlobStore,
  type Digest,
  isIndexMediaType,
  type Platform,
  parseImageConfig,
  parseIndex,
  parseManifest,
  type Reference,
} from '@kiln/image';
import { selectPlatform } from '@kiln/registry';
import type { PulledImage } from './imageSource.ts';

/**
 * A digest-pinned base read from the blob store (`--cache-dir`, filled by `kiln warm` or an earlier
 * build) without asking the registry: its manifest (or index, then the platform's manifest) and
 * config are content-addressed, so the stored bytes are exactly what the registry would send, and
 * they are verified as they are read. Undefined when anything is missing, so the registry is asked.
 * A tag is never resolved from the store: what it names can change, and Kaniko asks the registry too.
 */
export async function storedBaseImage(
  store: BlobStore,
  reference: Reference,
  platform: Platform,
): Promise<PulledImage | undefined> {
  if (reference.digest === undefined) return undefined;
  try {
    let digest: Digest = reference.digest;
    if (!(await store.has(digest))) return undefined;
    let bytes = await store.readBytes(digest);
    const json = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    if (isIndexMediaType(json.mediaType) || Array.isArray(json.manifests)) {
      digest = selectPlatform(parseIndex(bytes), platform, reference.toString()).digest;
      if (!(await store.has(digest))) return undefined;
      bytes = await store.readBytes(digest);
    }
    const manifest = parseManifest(bytes);
    if (!(await store.has(manifest.config.digest))) return undefined;
    const config = parseImageConfig(await store.readBytes(manifest.config.digest));
    return { reference: reference.toString(), digest, manifest, config };
  } catch {
    // Unreadable or changed on disk: the registry's copy decides (and the store drops a corrupt blob).
    return undefined;
  }
}
