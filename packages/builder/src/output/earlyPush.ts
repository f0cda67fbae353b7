import type { BlobStore, Descriptor, Reference } from '@kiln/image';
import { placeBlobAhead, type RegistryClient, type Repository } from '@kiln/registry';
import type { BuildEvent, BuildEventListener } from '../events.ts';

export interface EarlyPush {
  /** Sees every build event; starts an upload for each layer the target stage writes. */
  onEvent: BuildEventListener;
  /** Waits for the uploads started so far (never rejects: the push repeats a failed one and reports it). */
  settle(): Promise<void>;
}

/**
 * Uploads the target stage's layers to the destinations while the build's later steps run, so the
 * push at the end has only the last layer, the config and the manifest left to send. Only the
 * target stage's: other stages' layers never leave the machine. Per registry the first destination
 * repository gets them, as pushImage does; the push then awaits these uploads instead of repeating
 * them (placeBlobAhead).
 */
export function startEarlyPush(
  client: RegistryClient,
  store: BlobStore,
  destinations: Reference[],
  place: (target: Repository, blob: Descriptor) => Promise<void> = (target, blob) =>
    placeBlobAhead(client, target, blob, { source: store }),
): EarlyPush {
  const targets = new Map<string, { registry: string; repository: string }>();
  for (const { registry, repository } of destinations) {
    if (!targets.has(registry)) targets.set(registry, { registry, repository });
  }
  const started: Promise<void>[] = [];
  let targetStage: string | undefined;
  return {
    onEvent(event: BuildEvent) {
      if (event.type === 'build-started') targetStage = event.target;
      else if (event.type === 'layer-written' && event.stage === targetStage) {
        // ensureBlob reads only the digest and size; the media type is the manifest's business.
        const blob = { mediaType: 'application/octet-stream', digest: event.digest, size: event.size };
        for (const target of targets.values()) started.push(place(target, blob));
      }
    },
    async settle() {
      await Promise.all(started);
    },
  };
}
