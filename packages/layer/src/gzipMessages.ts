/** What the main thread sends a gzip worker: one block of tar, compressed as one gzip member. */
export interface GzipTask {
  data: Uint8Array;
  level: number;
}

/** The gzip member for that block. */
export type GzipResult = Uint8Array;
