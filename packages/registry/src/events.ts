import type { Digest } from '@kiln/image';

/** What the registry client reports while it works; the CLI reporter renders these. Never holds secrets. */
export type RegistryEvent =
  | {
      type: 'blob-progress';
      direction: 'push' | 'pull';
      registry: string;
      repository: string;
      digest: Digest;
      /** Bytes transferred so far in this attempt, and the blob size. */
      bytes: number;
      total: number;
    }
  | {
      type: 'blob-done';
      direction: 'push' | 'pull';
      registry: string;
      repository: string;
      digest: Digest;
      size: number;
    }
  | {
      type: 'blob-skipped';
      registry: string;
      repository: string;
      digest: Digest;
      /** `exists`: the registry has it; `in-store`: the local blob store has it. */
      reason: 'exists' | 'in-store';
    }
  | { type: 'blob-mounted'; registry: string; repository: string; digest: Digest; from: string }
  | { type: 'retry'; registry: string; operation: string; attempt: number; delayMs: number; reason: string }
  | { type: 'upload-resumed'; registry: string; repository: string; digest: Digest; offset: number }
  | { type: 'manifest-pushed'; reference: string; digest: Digest }
  /** `kiln index create`: an entry of the index, the source it came from and its platform. */
  | { type: 'index-entry'; source: string; digest: Digest; platform: string }
  /** The registry refused to move an immutable tag and the push was told to accept that. */
  | { type: 'immutable-tag'; reference: string; digest: Digest }
  | { type: 'mirror-failed'; mirror: string; reason: string };

export type RegistryEventHandler = (event: RegistryEvent) => void;
