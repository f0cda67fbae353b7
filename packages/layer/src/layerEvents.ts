import type { Compression, Digest } from '@kiln/image';

/** What the layer writer and extractor report; they never print. */
export type LayerEvent =
  | {
      type: 'layer-written';
      digest: Digest;
      diffId: Digest;
      size: number;
      mediaType: string;
      compression: Compression;
      entries: number;
    }
  | { type: 'layer-extracted'; entries: number; bytes: number }
  | { type: 'extract-ignored'; path: string }
  | { type: 'extract-xattr-skipped'; path: string; names: string[]; reason: string };
