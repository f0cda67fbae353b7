import type { Digest } from '@kiln/image';
import type { LayerEvent } from '@kiln/layer';
import type { RegistryEvent } from '@kiln/registry';
import type { SnapshotEvent } from '@kiln/snapshot';

/**
 * What the builder reports while it works. Logic never prints; the CLI reporter renders these
 * (TTY progress, plain CI lines, JSON lines). `step` is 1-based within its stage. What the
 * registry client, the snapshot and the layer writer/extractor report is forwarded whole, each
 * family in its own variant, so a new event of theirs reaches every output.
 */
export type BuildEvent =
  | { type: 'build-started'; stages: string[]; target: string; executor: string }
  | { type: 'stage-started'; stage: string; index: number; base: string; steps: number }
  /** Multi-platform builds: the platform whose stages the following events are. */
  | { type: 'platform-started'; platform: string; position: number; platforms: number }
  /** A stage whose inputs equal another platform's: that platform's result, not run again. */
  | { type: 'stage-reused'; stage: string; platform: string; from: string }
  | { type: 'base-pulled'; stage: string; reference: string; digest: Digest; layers: number; ms: number }
  | { type: 'step-started'; stage: string; step: number; steps: number; instruction: string; line: number }
  | { type: 'step-cached'; stage: string; step: number; cacheKey: string }
  | { type: 'step-done'; stage: string; step: number; ms: number; cacheKey: string; emptyLayer: boolean }
  | { type: 'run-output'; stage: string; step: number; stream: 'stdout' | 'stderr'; line: string }
  | { type: 'snapshot-done'; stage: string; step: number; entries: number; changes: number; ms: number }
  | {
      type: 'layer-written';
      stage: string;
      step: number;
      digest: Digest;
      diffId: Digest;
      size: number;
      ms: number;
    }
  | { type: 'stage-done'; stage: string; ms: number }
  | { type: 'pushed'; destination: string; digest: Digest }
  | { type: 'output-written'; kind: 'tar' | 'oci-layout' | 'digest-file'; path: string }
  | {
      type: 'image-done';
      /** The image's manifest digest; the index's in a multi-platform build. */
      digest: Digest;
      /** The image's config digest; the first platform's in a multi-platform build. */
      configDigest: Digest;
      size: number;
      destinations: string[];
      ms: number;
      /** Multi-platform builds: each platform's manifest digest, in index order. */
      platforms?: { platform: string; digest: Digest }[];
    }
  | { type: 'warning'; message: string }
  | RegistryBuildEvent
  | SnapshotBuildEvent
  | LayerBuildEvent;

/** The registry client's events (pulls, pushes, retries, mounts), as the client emitted them. */
export interface RegistryBuildEvent {
  type: 'registry';
  event: RegistryEvent;
}

/** A stage's snapshot events (`xattrs-unavailable`, skipped sockets, walk and hash progress). */
export interface SnapshotBuildEvent {
  type: 'snapshot';
  /** Absent outside a build (`kiln snapshot`). */
  stage?: string;
  event: SnapshotEvent;
}

/** The layer writer's and extractor's events for a stage (`extract-xattr-skipped`, ignored paths). */
export interface LayerBuildEvent {
  type: 'layer';
  /** Absent outside a build. */
  stage?: string;
  event: LayerEvent;
}

export type BuildEventListener = (event: BuildEvent) => void;
