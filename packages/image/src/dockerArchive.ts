import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { KilnError } from '@kiln/errors';
import type { BlobStore } from './blobStore.ts';
import { type Digest, digestHex } from './digest.ts';
import { layerCompression } from './mediaTypes.ts';
import type { ImageConfig, ImageManifest } from './types.ts';
import { parseImageConfig } from './validateImageJson.ts';

export interface DockerArchiveImage {
  manifest: ImageManifest;
  /** `name:tag` as `docker load` should tag it, e.g. `registry.example.com/app:1.0`. */
  tags: string[];
}

/**
 * Writes a docker-archive tarball (`docker save` format: `manifest.json`, `repositories`,
 * `<config>.json`, `<diffID>/layer.tar`) that `docker load` and `skopeo copy docker-archive:`
 * read. Layers go in uncompressed, as Docker's loader expects, and each is checked against
 * its diffID. Written to a temp file beside `tarPath` and renamed into place.
 */
export async function writeDockerArchive(
  tarPath: string,
  images: DockerArchiveImage[],
  store: BlobStore,
): Promise<void> {
  const scratch = await mkdtemp(join(dirname(tarPath), `.${basename(tarPath)}.kiln-`));
  const partial = join(scratch, 'archive.tar');
  const out = await open(partial, 'w');
  try {
    const written = new Set<string>();
    const manifestJson: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const image of images) {
      const configBytes = await store.readBytes(image.manifest.config.digest);
      const config: ImageConfig = parseImageConfig(configBytes);
      const configName = `${digestHex(image.manifest.config.digest)}.json`;
      if (!written.has(configName)) {
        await writeEntry(out, configName, configBytes);
        written.add(configName);
      }
      const layerNames: string[] = [];
      for (const [i, layer] of image.manifest.layers.entries()) {
        const diffId = config.rootfs.diff_ids[i];
        if (diffId === undefined) {
          throw new KilnError('INVALID_CONFIG', `config lists fewer diff_ids than the manifest has layers`);
        }
        const name = `${digestHex(diffId)}/layer.tar`;
        layerNames.push(name);
        if (written.has(name)) continue;
        const tar = join(scratch, `${randomBytes(6).toString('hex')}.tar`);
        await decompressTo(await store.open(layer.digest), layerCompression(layer.mediaType), tar, diffId);
        await writeFileEntry(out, name, tar);
        await rm(tar);
        written.add(name);
      }
      manifestJson.push({ Config: configName, RepoTags: image.tags, Layers: layerNames });
      const top = layerNames[layerNames.length - 1];
      for (const tag of image.tags) {
        const colon = tag.lastIndexOf(':');
        const repo = colon > tag.lastIndexOf('/') ? tag.slice(0, colon) : tag;
        const version = colon > tag.lastIndexOf('/') ? tag.slice(colon + 1) : 'latest';
        if (top === undefined) continue;
        repositories[repo] ??= {};
        repositories[repo][version] = top.slice(0, top.indexOf('/'));
      }
    }
    await writeEntry(out, 'manifest.json', Buffer.from(JSON.stringify(manifestJson)));
    await writeEntry(out, 'repositories', Buffer.from(JSON.stringify(repositories)));
    await writeAll(out, Buffer.alloc(1024));
    await out.close();
    await rename(partial, tarPath);
  } finally {
    await out.close().catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  }
}

async function decompressTo(
  source: Readable,
  compression: string,
  file: string,
  diffId: Digest,
): Promise<void> {
  const hash = createHash('sha256');
  const handle = await open(file, 'w');
  try {
    const sink = async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) {
        hash.update(chunk);
        await writeAll(handle, chunk);
      }
    };
    if (compression === 'gzip') await pipeline(source, createGunzip(), sink);
    else if (compression === 'zstd') await pipeline(source, createZstdDecompress(), sink);
    else await pipeline(source, sink);
  } finally {
    await handle.close();
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== diffId) {
    throw new KilnError('DIFF_ID_MISMATCH', `layer uncompresses to ${actual}, but the config says ${diffId}`);
  }
}

// The outer tar is plain USTAR: every name here is short ASCII.
export function ustarHeader(name: string, size: number, type: 'file' | 'dir' = 'file'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'ascii');
  header.write(type === 'dir' ? '0000755\0' : '0000644\0', 100, 'ascii');
  header.write('0000000\0', 108, 'ascii');
  header.write('0000000\0', 116, 'ascii');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  header.write('00000000000\0', 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header[156] = type === 'dir' ? 0x35 : 0x30;
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

export async function writeEntry(out: FileHandle, name: string, data: Buffer): Promise<void> {
  await writeAll(out, ustarHeader(name, data.length));
  await writeAll(out, data);
  await writeAll(out, Buffer.alloc((512 - (data.length % 512)) % 512));
}

export async function writeFileEntry(out: FileHandle, name: string, file: string): Promise<void> {
  const { size } = await stat(file);
  if (size > 0o77777777777) throw new KilnError('LAYER_TOO_LARGE', `layer ${name} is over 8 GiB`);
  await writeAll(out, ustarHeader(name, size));
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    await writeAll(out, chunk as Buffer);
  }
  await writeAll(out, Buffer.alloc((512 - (size % 512)) % 512));
}

export async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}
