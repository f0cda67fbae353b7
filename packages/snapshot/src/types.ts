import type { HashPool } from './hashPool.ts';

/**
 * The data the snapshotter hands to the layer writer and the builder.
 * Paths are relative to the snapshot root, `/`-separated, with no leading `/` or `./`
 * (the root itself is never an entry), and sort in byte order of their UTF-8 form.
 */
export type EntryType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';

export interface Entry {
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (`st_mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes for regular files, else 0. */
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  dev: number;
  ino: number;
  nlink: number;
  /** Symlink target. */
  linkTarget?: string;
  /** Device number for char/block devices (`st_rdev`). */
  rdev?: number;
  /** Extended attributes by name (at least `security.capability`), values as raw bytes. */
  xattrs?: Record<string, Uint8Array>;
  /** xxh64 of the content as 16 hex digits; regular files only, when the strategy hashed it. */
  hash?: string;
}

export type ChangeKind = 'added' | 'modified' | 'deleted';

/** Why a path counts as modified: the fields that differ. */
export type ChangeReason =
  | 'type'
  | 'content'
  | 'size'
  | 'mode'
  | 'owner'
  | 'mtime'
  | 'ctime'
  | 'inode'
  | 'linkTarget'
  | 'xattrs'
  | 'hardlink';

export interface Change {
  path: string;
  kind: ChangeKind;
  /** The entry after the change; absent for deletions. */
  entry?: Entry;
  /** For modified paths: what differs. */
  reasons?: ChangeReason[];
}

/**
 * What changed between two snapshots, sorted by path (parents before children).
 * A deleted directory is one `deleted` change (its children are not listed).
 * `opaqueDirs` are directories whose previous contents are all gone: the layer
 * writer emits `.wh..wh..opq` for them and lists their new children as added.
 */
export interface ChangeSet {
  changes: Change[];
  opaqueDirs: string[];
}

export type SnapshotStrategyName = 'full' | 'metadata' | 'incremental' | 'overlay';

/**
 * A prefix (`var/cache`: the path and everything under it) or, when it contains `*`, `?` or `[`,
 * a glob (`**` crosses `/`, `*` does not). Relative to the root; a leading `/` is ignored.
 */
export type IgnoreRule = string;

export interface SnapshotStats {
  entries: number;
  /** Bytes and files read to hash content in this snapshot (carried-over hashes not counted). */
  bytesHashed: number;
  filesHashed: number;
  /** Wall time of the snapshot. */
  ms: number;
}

/** A walked root: entries sorted by path (byte order of UTF-8), stored column-wise to stay compact. */
export interface Snapshot {
  readonly root: string;
  readonly strategy: SnapshotStrategyName;
  /** Whether regular files carry content hashes (then diffs compare content, not timestamps). */
  readonly hashed: boolean;
  readonly size: number;
  readonly stats: SnapshotStats;
  entry(index: number): Entry;
  /** Index of a path, or -1. */
  indexOf(path: string): number;
  get(path: string): Entry | undefined;
  path(index: number): string;
  [Symbol.iterator](): Iterator<Entry>;
}

export type SnapshotEvent =
  | { type: 'snapshot-start'; root: string; strategy: SnapshotStrategyName; threads: number }
  | {
      type: 'snapshot-walked';
      entries: number;
      filesToHash: number;
      /** Unknown when files are stat'ed only where they are hashed (a first snapshot that hashes). */
      bytesToHash?: number;
      /** Who listed the tree: this process's walk, or `kiln-xattr walk` beside it. */
      walker: 'node' | 'kiln-xattr';
      ms: number;
    }
  | { type: 'snapshot-done'; stats: SnapshotStats }
  | { type: 'snapshot-skipped'; path: string; reason: 'socket' | 'vanished' | 'undecodable-name' }
  | { type: 'xattrs-unavailable'; reason: string };

export interface SnapshotOptions {
  /** Default `incremental`. */
  strategy?: SnapshotStrategyName;
  /** The snapshot of the same root before the step: `incremental` hashes only what changed since. */
  previous?: Snapshot;
  ignore?: IgnoreRule[];
  /** Apply the built-in ignore rules (`proc`, `sys`, `dev`, Kiln's work dirs). Default true. */
  builtinIgnore?: boolean;
  /**
   * Cores the snapshot may use; default the pool's, else the available cores. More than one lets a first
   * hashing snapshot be walked by the C helper in its own process while the calling thread hashes, and
   * hashes big jobs as the walk goes; 1 (or 0) walks, then hashes, on the calling thread alone.
   */
  threads?: number;
  /**
   * The hash pool, owned by the caller (a build shares one across its snapshots). Without one, the
   * snapshot makes its own and closes it.
   */
  pool?: HashPool;
  /** Read extended attributes (default true). */
  xattrs?: boolean;
  onEvent?: (event: SnapshotEvent) => void;
}
