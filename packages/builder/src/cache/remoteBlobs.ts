import type { BlobStore, Descriptor, Digest } from '@kiln/image';
import { fetchBlob, type RegistryClient, type Repository } from '@kiln/registry';

/** A layer as far as fetching goes: stage layers and manifest descriptors alike. */
type LayerRef = { descriptor: Pick<Descriptor, 'digest' | 'size'> };

/**
 * Where the layer blobs a build refers to but has not downloaded live: base images pulled
 * without their layers and layer-cache hits. Blobs are fetched only when a root must be
 * materialised or an output needs the bytes; a push to the same registry mounts them instead.
 */
export class RemoteBlobs {
  readonly #client: RegistryClient;
  readonly #store: BlobStore;
  readonly #sources = new Map<Digest, Repository>();
  readonly #fetching = new Map<Digest, Promise<void>>();

  constructor(client: RegistryClient, store: BlobStore) {
    this.#client = client;
    this.#store = store;
  }

  /** Records that `repository` holds `digest` (the first source seen wins). */
  note(digest: Digest, repository: Repository): void {
    if (!this.#sources.has(digest)) this.#sources.set(digest, repository);
  }

  sourceOf(digest: Digest): Repository | undefined {
    return this.#sources.get(digest);
  }

  /** Every repository blobs were noted in: what a push may mount from. */
  repositories(): Repository[] {
    const seen = new Map<string, Repository>();
    for (const source of this.#sources.values()) seen.set(`${source.registry}/${source.repository}`, source);
    return [...seen.values()];
  }

  /** Downloads the layers' blobs that are not in the store yet (each once, in parallel). */
  async fetch(layers: LayerRef[]): Promise<void> {
    await Promise.all(layers.map((layer) => this.#fetchOne(layer)));
  }

  /**
   * Fetches what a push to `registries` cannot mount: blobs missing locally whose source is on
   * another registry (or unknown), so the uploader finds them in the store.
   */
  async fetchUnmountable(layers: LayerRef[], registries: string[]): Promise<void> {
    const needed: LayerRef[] = [];
    for (const layer of layers) {
      const source = this.#sources.get(layer.descriptor.digest);
      if (source && registries.every((registry) => registry === source.registry)) continue;
      needed.push(layer);
    }
    await this.fetch(needed);
  }

  async #fetchOne(layer: LayerRef): Promise<void> {
    const digest = layer.descriptor.digest;
    let running = this.#fetching.get(digest);
    if (running) {
      await running;
      // A blob dropped since (found corrupt in the shared store) is fetched again on request.
      if (!this.#sources.has(digest) || (await this.#store.has(digest))) return;
      const current = this.#fetching.get(digest);
      if (current !== undefined && current !== running) return current;
    }
    running = (async () => {
      if (await this.#store.has(digest)) return;
      const source = this.#sources.get(digest);
      // Not noted anywhere: the blob was written by this build, so the store must hold it.
      if (!source) return;
      await fetchBlob(this.#client, source, layer.descriptor, this.#store);
    })();
    running.catch(() => this.#fetching.delete(digest));
    this.#fetching.set(digest, running);
    return running;
  }
}
