import type { Digest } from '@kiln/image';

/**
 * What the builder reports while it works. Logic never prints; the CLI reporter renders these
 * (TTY progress, plain CI lines, JSON lines). `step` is 1-based within its stage.
 */
export type BuildEvent =
  | { type: 'build-started'; stages: string[]; target: string; executor: string }
  | { type: 'stage-started'; stage: string; index: number; base: string; steps: number }
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
  | { type: 'push-progress'; destination: string; detail: PushProgressDetail }
  | { type: 'pushed'; destination: string; digest: Digest }
  | { type: 'output-written'; kind: 'tar' | 'oci-layout' | 'digest-file'; path: string }
  | {
      type: 'image-done';
      digest: Digest;
      configDigest: Digest;
      size: number;
      destinations: string[];
      ms: number;
    }
  | { type: 'warning'; message: string };

/** Forwarded as-is from the registry client's push events. */
export interface PushProgressDetail {
  kind: string;
  digest?: string;
  bytes?: number;
  total?: number;
  [key: string]: unknown;
}

export type BuildEventListener = (event: BuildEvent) => void;
