import { mkdtemp, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BlobStore } from './blobStore.ts';
import { type Digest, digestHex } from './digest.ts';
import { ustarHeader, writeAll, writeEntry, writeFileEntry } from './dockerArchive.ts';
import { type LayoutImage, writeOciIndexLayout } from './ociLayout.ts';
import type { Platform } from './types.ts';

export interface MultiPlatformArchive {
  /** One image per platform, in index order. */
  images: LayoutImage[];
  /** The image index's media type (OCI index unless a Docker manifest list). */
  mediaType?: string;
  /** `org.opencontainers.image.ref.name` entries of index.json (tags). */
  tags: string[];
  /** `name:tag` for Docker's manifest.json, given only to the platform `tagPlatform` (Docker loads one per tag). */
  repoTags: string[];
  tagPlatform?: Platform;
}

/**
 * Writes the archive `docker save` writes since Docker 25 for a multi-platform image: an OCI
 * image layout (oci-layout, index.json → the image index, blobs/sha256/…) plus Docker's
 * manifest.json listing each platform's config and layers, so both `skopeo … oci-archive:` and
 * `docker load` read it. Staged as a layout beside `tarPath`, then written and renamed into place.
 */
export async function writeMultiPlatformArchive(
  tarPath: string,
  archive: MultiPlatformArchive,
  store: BlobStore,
): Promise<void> {
  const scratch = await mkdtemp(join(dirname(tarPath), `.${basename(tarPath)}.kiln-`));
  const layout = join(scratch, 'layout');
  const partial = join(scratch, 'archive.tar');
  try {
    const written = await writeOciIndexLayout(
      layout,
      {
        images: archive.images,
        ...(archive.mediaType ? { mediaType: archive.mediaType } : {}),
        tags: archive.tags,
      },
      store,
    );
    const tagged = archive.tagPlatform;
    const manifestJson = archive.images.map((image, position) => {
      const platform = written.manifests[position]?.platform;
      const wantsTags =
        tagged === undefined
          ? position === 0
          : platform?.os === tagged.os && platform.architecture === tagged.architecture;
      return {
        Config: blobPath(image.manifest.config.digest),
        RepoTags: wantsTags ? archive.repoTags : [],
        Layers: image.manifest.layers.map((layer) => blobPath(layer.digest)),
      };
    });
    const out = await open(partial, 'w');
    try {
      await writeEntry(out, 'oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
      await writeEntry(out, 'index.json', await readFile(join(layout, 'index.json')));
      await writeEntry(out, 'manifest.json', Buffer.from(JSON.stringify(manifestJson)));
      await writeAll(out, ustarHeader('blobs/', 0, 'dir'));
      await writeAll(out, ustarHeader('blobs/sha256/', 0, 'dir'));
      for (const name of (await readdir(join(layout, 'blobs', 'sha256'))).sort()) {
        await writeFileEntry(out, `blobs/sha256/${name}`, join(layout, 'blobs', 'sha256', name));
      }
      await writeAll(out, Buffer.alloc(1024));
    } finally {
      await out.close();
    }
    await rename(partial, tarPath);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function blobPath(digest: Digest): string {
  return `blobs/sha256/${digestHex(digest)}`;
}
