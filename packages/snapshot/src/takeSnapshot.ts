import { statSync } from 'node:fs';
import path from 'node:path';
import { KilnError } from '@kiln/errors';
import { ColumnBuilder } from './columnBuilder.ts';
import { CompactSnapshot, snapshotColumns } from './compactSnapshot.ts';
import { comparePaths } from './comparePaths.ts';
import { type EntryColumns, typeCode } from './entryColumns.ts';
import { HASH_NOT_FILE, HASH_OK, type HashResultView } from './hashMessages.ts';
import { createHashPool, defaultHashThreads, type HashPool } from './hashPool.ts';
import { HashQueue } from './hashQueue.ts';
import { rescanHelper, rescanWithHelper } from './helperRescan.ts';
import { walkHelper, walkWithHelper } from './helperWalk.ts';
import { builtinIgnoreRules, compileIgnoreRules, type IgnoreMatcher, isPathIgnored } from './ignoreRules.ts';
import { type EntryStat, lstatEntry, unpackStat } from './listDirectory.ts';
import { deriveEncodedPaths, type EncodedPaths, encodedPaths, rememberPathBytes } from './pathEncoding.ts';
import {
  startXattrReader,
  type XattrReader,
  type XattrReaderMode,
  type XattrRecord,
  xattrHelper,
} from './readXattrs.ts';
import { resolveStrategy, type SnapshotStrategy } from './snapshotStrategies.ts';
import { prestartHelper } from './spareHelpers.ts';
import type { Snapshot, SnapshotEvent, SnapshotOptions } from './types.ts';
import { type WalkOptions, walkTree } from './walkTree.ts';
import type { XattrHelperCommand } from './xattrHelper.ts';

const FILE = typeCode.file;
const SYMLINK = typeCode.symlink;
const CHAR = typeCode.char;
const BLOCK = typeCode.block;

/** The entry type code for `st_mode`, or -1 for sockets (skipped). */
function typeCodeOfMode(mode: number): number {
  switch (mode & 0o170000) {
    case 0o100000:
      return FILE;
    case 0o040000:
      return typeCode.dir;
    case 0o120000:
      return SYMLINK;
    case 0o020000:
      return CHAR;
    case 0o060000:
      return BLOCK;
    case 0o010000:
      return typeCode.fifo;
    default:
      return -1;
  }
}

interface TimeWords {
  mtimes: Int32Array;
  ctimes: Int32Array;
  hashes: Int32Array;
}

function timeWords(columns: EntryColumns): TimeWords {
  const view = (array: BigInt64Array | BigUint64Array) =>
    new Int32Array(array.buffer, array.byteOffset, array.length * 2);
  return { mtimes: view(columns.mtimes), ctimes: view(columns.ctimes), hashes: view(columns.hashes) };
}

function sameWords(a: Int32Array, i: number, b: Int32Array, j: number): boolean {
  return a[2 * i] === b[2 * j] && a[2 * i + 1] === b[2 * j + 1];
}

/** Walks `root` into a Snapshot with the chosen strategy (default `incremental`). */
export async function takeSnapshot(root: string, options: SnapshotOptions = {}): Promise<Snapshot> {
  // A first snapshot reads every entry's xattrs: with the helper's walk, or by directory (the walk sends a
  // few names, not every path); a rescan only those of entries whose ctime moved, by path.
  const run = new SnapshotRun(root, options, options.previous === undefined ? 'get-dirs' : 'get');
  return run.whole(async () => {
    if (await run.rescanInHelper()) return;
    const helper = run.useWalkHelper();
    const walked =
      helper !== undefined &&
      (await walkWithHelper(helper, run.root, run.isIgnored.prefixes ?? [], run.visitor));
    if (!walked) {
      run.walkInProcess();
      await walkTree(run.rootPrefix, '', run.isIgnored, run.visitor, run.walkOptions);
    }
  });
}

/**
 * Snapshots only the given paths (relative to `root`) and what is under them, plus their ancestor
 * directories so a layer has parents before children: for COPY/ADD, whose touched paths the builder knows.
 * Paths that do not exist are left out.
 */
export async function snapshotPaths(
  root: string,
  paths: readonly string[],
  options: SnapshotOptions = {},
): Promise<Snapshot> {
  const run = new SnapshotRun(root, options, 'get');
  const starts = [...new Set(paths.map((p) => p.replace(/^\/+|\/+$/g, '')).filter((p) => p !== ''))].sort(
    comparePaths,
  );
  const covered = starts.filter((p, i) => !starts.slice(0, i).some((start) => p.startsWith(`${start}/`)));
  const ancestors = new Set<string>();
  return run.whole(async () => {
    for (const start of covered) {
      if (isPathIgnored(run.isIgnored, start)) continue;
      const stats = lstatEntry(`${run.rootPrefix}/${start}`);
      if (stats === undefined) continue;
      const parts = start.split('/');
      for (let depth = 1; depth < parts.length; depth++) {
        const ancestor = parts.slice(0, depth).join('/');
        if (ancestors.has(ancestor)) continue;
        ancestors.add(ancestor);
        const abs = `${run.rootPrefix}/${ancestor}`;
        const ancestorStats = lstatEntry(abs);
        if (ancestorStats === undefined) continue;
        run.visitor.entry(ancestor, ancestorStats);
      }
      run.visitor.entry(start, stats);
      if ((stats.mode & 0o170000) === 0o040000)
        await walkTree(run.rootPrefix, start, run.isIgnored, run.visitor, run.walkOptions);
    }
  });
}

/**
 * Starts, ahead of time, the helper process the next `takeSnapshot(root, options)` will use (the same
 * options: `previous` decides between `kiln-xattr walk` and `rescan`), so that snapshot does not wait
 * for its fork and exec: see spareHelpers.ts. Nothing happens when that snapshot would use no helper.
 * The caller ends unused spares with `discardSpareHelpers` when it is done snapshotting.
 */
export function prestartSnapshotHelper(root: string, options: SnapshotOptions = {}): void {
  const prefixes = compileIgnoreRules(ignoreRulesOf(options)).prefixes;
  const helper = snapshotHelper(options, resolveStrategy(options.strategy), prefixes);
  if (helper !== undefined) prestartHelper(helper, path.resolve(root));
}

/** The ignore rules a snapshot with `options` applies: the built-in ones unless turned off, then the caller's. */
function ignoreRulesOf(options: SnapshotOptions): string[] {
  return [...(options.builtinIgnore === false ? [] : builtinIgnoreRules), ...(options.ignore ?? [])];
}

/** The threads that hash a snapshot's files (0 or 1: on the calling thread). */
function hashThreads(options: SnapshotOptions): number {
  return Math.max(0, Math.floor(options.threads ?? options.pool?.threads ?? defaultHashThreads()));
}

/**
 * The C helper a snapshot with `options` runs, if any: `kiln-xattr rescan` for a rescan (`previous`)
 * that does not hash every file; `kiln-xattr walk` for a first snapshot that hashes, with worker threads
 * to hash and xattrs to read (with one thread the walk stays on the calling thread, as everything else
 * does). Either needs prefix-only ignore rules. One decision for the snapshot and for starting it ahead.
 */
function snapshotHelper(
  options: SnapshotOptions,
  strategy: ReturnType<typeof resolveStrategy>,
  prefixes: readonly string[] | undefined,
): XattrHelperCommand | undefined {
  if (prefixes === undefined) return undefined;
  if (options.previous !== undefined) return strategy.hashing === 'all' ? undefined : rescanHelper();
  const walks = strategy.hashing !== 'none' && hashThreads(options) > 1 && options.xattrs !== false;
  return walks ? walkHelper() : undefined;
}

/** One snapshot in progress: the walk feeds it entries, it decides what to hash and what to carry over. */
class SnapshotRun {
  readonly root: string;
  readonly rootPrefix: string;
  readonly isIgnored: IgnoreMatcher;
  readonly visitor: Parameters<typeof walkTree>[3];
  readonly walkOptions: WalkOptions;
  private readonly strategy: SnapshotStrategy;
  private readonly options: SnapshotOptions;
  private readonly emit: (event: SnapshotEvent) => void;
  private readonly builder = new ColumnBuilder();
  private readonly queue: HashQueue;
  /** The caller's pool, or one of this snapshot's own (closed when it ends). */
  private readonly pool: HashPool;
  private readonly ownsPool: boolean;
  private readonly previous: EntryColumns | undefined;
  private readonly previousSnapshot: Snapshot | undefined;
  private previousCursor = 0;
  /** 32-bit views of the 64-bit columns: comparing and copying through them allocates no BigInts. */
  private readonly previousWords: TimeWords | undefined;
  private wordsFor: EntryColumns | undefined;
  private currentWords: TimeWords | undefined;
  private readonly readXattrs: boolean;
  /** `get`: entries are sent by path; `get-dirs`: directories are sent and every entry in them is answered. */
  private readonly xattrMode: XattrReaderMode;
  private xattrReader: XattrReader | undefined | null;
  /** What was sent, by position: entry ids (`get`) or directory paths (`get-dirs`). */
  private readonly xattrIds: number[] = [];
  private readonly xattrDirs: string[] = [];
  /**
   * Every regular file is hashed whatever its stat says (a first snapshot that hashes): the walk skips
   * its lstat and the hash worker fstats the open file instead, one path lookup per file rather than two.
   */
  private readonly statWhereHashed: boolean;
  /** The walk came from `kiln-xattr walk`, every entry's xattrs with it. */
  private xattrsFromWalk = false;
  private readonly start = performance.now();
  private bytesToHash = 0;
  private filesToHash = 0;
  /** A rescan's unchanged previous rows not yet copied, as (start, count) pairs (see keep). */
  private pendingKeep: number[] = [];
  /** Copied runs as (previous start, row, count) triples, for their sparse fields at the end. */
  private readonly keptRuns: number[] = [];
  private previousEncoding: EncodedPaths | undefined;

  constructor(root: string, options: SnapshotOptions, xattrMode: XattrReaderMode) {
    this.xattrMode = xattrMode;
    this.options = options;
    this.root = path.resolve(root);
    this.rootPrefix = this.root === '/' ? '' : this.root;
    const stats = statSync(this.root, { throwIfNoEntry: false });
    if (stats === undefined) throw new KilnError('SNAPSHOT_ROOT_NOT_FOUND', `${this.root} does not exist`);
    if (!stats.isDirectory()) throw new KilnError('SNAPSHOT_ROOT_NOT_DIR', `${this.root} is not a directory`);
    this.strategy = resolveStrategy(options.strategy);
    this.emit = options.onEvent ?? (() => {});
    this.isIgnored = compileIgnoreRules(ignoreRulesOf(options));
    this.previousSnapshot = options.previous;
    this.previous = options.previous === undefined ? undefined : snapshotColumns(options.previous);
    this.previousWords = this.previous === undefined ? undefined : timeWords(this.previous);
    const threads = hashThreads(options);
    this.ownsPool = options.pool === undefined;
    this.pool = options.pool ?? createHashPool({ threads: Math.max(threads, defaultHashThreads()) });
    this.statWhereHashed = options.previous === undefined && this.strategy.hashing !== 'none';
    this.queue = new HashQueue(
      this.pool,
      threads,
      (id) => `${this.rootPrefix}/${this.builder.columns.paths[id]}`,
      (id, result, index, file) => this.hashed(id, result, index, file),
      this.statWhereHashed,
    );
    this.walkOptions = { deferFiles: this.statWhereHashed };
    this.readXattrs = options.xattrs !== false;
    this.emit({ type: 'snapshot-start', root: this.root, strategy: this.strategy.name, threads });
    this.visitor = {
      entry: (relPath, st) => this.add(relPath, st),
      skipped: (relPath, reason) => this.emit({ type: 'snapshot-skipped', path: relPath, reason }),
      shouldYield: () => this.queue.busy,
    };
  }

  /** The C helper that walks a first snapshot in its own process, xattrs included (see snapshotHelper, walkWithHelper). */
  useWalkHelper(): XattrHelperCommand | undefined {
    const helper =
      this.previous === undefined
        ? snapshotHelper(this.options, this.strategy, this.isIgnored.prefixes)
        : undefined;
    this.xattrsFromWalk = helper !== undefined;
    return helper;
  }

  /**
   * A rescan walked and compared by `kiln-xattr rescan` (when snapshotHelper says so), which sends back only what changed: see rescanWithHelper. False
   * when it does not apply or there is no helper that can: then nothing was visited.
   */
  async rescanInHelper(): Promise<boolean> {
    const previous = this.previous;
    const prefixes = this.isIgnored.prefixes;
    if (previous === undefined || prefixes === undefined) return false;
    const helper = snapshotHelper(this.options, this.strategy, prefixes);
    if (helper === undefined) return false;
    // Changed entries come with their xattrs (when asked for), unchanged ones carry theirs over.
    this.xattrsFromWalk = true;
    // Its paths as bytes: kept from the file or the previous rescan, else encoded now (once per chain).
    this.previousEncoding = encodedPaths(previous);
    // Sized once for the previous rows and a few new ones, so copying the unchanged runs never regrows.
    this.builder.reserve(previous.types.length + 1024);
    const done = await rescanWithHelper(
      helper,
      {
        root: this.root,
        ignored: prefixes,
        previous,
        previousPathBytes: this.previousEncoding.bytes,
        threads: Math.max(1, this.queue.threads),
        xattrs: this.readXattrs,
      },
      {
        keep: (start, count) => this.pendingKeep.push(start, count),
        entry: (relPath, st, row) => this.add(relPath, st, row),
        skipped: (relPath, reason) => this.emit({ type: 'snapshot-skipped', path: relPath, reason }),
      },
    );
    if (!done) this.xattrsFromWalk = false;
    return done;
  }

  /**
   * Copies the unchanged previous rows reported so far (deferred, so that a rescan that finds nothing
   * changed can share the previous columns instead). Their files keep their hashes; under `metadata`
   * they carry none, and a file the previous snapshot did not hash is hashed now.
   */
  private copyKept(): void {
    const previous = this.previous!;
    const pending = this.pendingKeep;
    this.pendingKeep = [];
    for (let k = 0; k < pending.length; k += 2) {
      const start = pending[k]!;
      const count = pending[k + 1]!;
      const first = this.builder.pushRows(previous, start, count);
      this.keptRuns.push(start, first, count);
      const c = this.builder.columns;
      if (this.strategy.hashing === 'none') {
        c.hashed.fill(0, first, first + count);
        c.hashes.fill(0n, first, first + count);
        continue;
      }
      for (let i = first; i < first + count; i++) {
        if (c.types[i] !== FILE || c.hashed[i] === 1) continue;
        this.filesToHash++;
        this.bytesToHash += c.sizes[i]!;
        this.queue.add(i, c.sizes[i]!);
      }
    }
  }

  /** The copied rows' link targets, device numbers and xattrs, from the previous snapshot's maps. */
  private copyKeptSparse(): void {
    const runs = this.keptRuns;
    if (runs.length === 0) return;
    const previous = this.previous!;
    const c = this.builder.columns;
    // Runs arrive in walk order, so by ascending previous start: a binary search finds a row's run.
    const rowOf = (old: number): number => {
      let low = 0;
      let high = runs.length / 3 - 1;
      while (low <= high) {
        const mid = (low + high) >>> 1;
        const start = runs[3 * mid]!;
        if (old < start) high = mid - 1;
        else if (old >= start + runs[3 * mid + 2]!) low = mid + 1;
        else return runs[3 * mid + 1]! + old - start;
      }
      return -1;
    };
    const copy = <T>(from: Map<number, T>, to: Map<number, T>) => {
      for (const [old, value] of from) {
        const row = rowOf(old);
        if (row >= 0) to.set(row, value);
      }
    };
    copy(previous.linkTargets, c.linkTargets);
    copy(previous.rdevs, c.rdevs);
    if (this.readXattrs) copy(previous.xattrs, c.xattrs);
  }

  /**
   * The previous columns themselves, when a rescan found every previous row unchanged and nothing to add
   * (and the strategy would record the same hashes and xattrs): no copy at all.
   */
  private unchangedPrevious(): EntryColumns | undefined {
    const previous = this.previous;
    const pending = this.pendingKeep;
    if (previous === undefined || this.builder.count > 0 || this.keptRuns.length > 0) return undefined;
    const size = previous.types.length;
    const everyRow =
      size === 0 ? pending.length === 0 : pending.length === 2 && pending[0] === 0 && pending[1] === size;
    if (!everyRow) return undefined;
    if (!this.readXattrs && previous.xattrs.size > 0) return undefined;
    if (this.strategy.hashing === 'none') return this.previousSnapshot!.hashed ? undefined : previous;
    for (let i = 0; i < size; i++)
      if (previous.types[i] === FILE && previous.hashed[i] !== 1) return undefined;
    return previous;
  }

  /**
   * Runs the walk and finishes the snapshot. If the walk fails, the xattr helper is stopped (nothing
   * will ask it for answers); however it ends, a pool of the snapshot's own is closed.
   */
  async whole(walk: () => Promise<void>): Promise<Snapshot> {
    try {
      try {
        await walk();
      } catch (error) {
        if (this.xattrReader) this.xattrReader.cancel();
        throw error;
      }
      return await this.finish();
    } finally {
      if (this.ownsPool) await this.pool.close();
    }
  }

  /** The walk runs in this process after all (no helper, or one without `walk`): xattrs by directory. */
  walkInProcess(): void {
    this.xattrsFromWalk = false;
  }

  private words(): TimeWords {
    // The builder reallocates its columns as it grows; views follow.
    if (this.wordsFor !== this.builder.columns) {
      this.wordsFor = this.builder.columns;
      this.currentWords = timeWords(this.wordsFor);
    }
    return this.currentWords!;
  }

  private findPrevious(relPath: string): number {
    const previous = this.previous;
    if (previous === undefined) return -1;
    const paths = previous.paths;
    // The common case in a rescan: the next previous path is this one (no string comparison needed).
    const next = this.previousCursor;
    if (paths[next] === relPath) {
      this.previousCursor = next + 1;
      return next;
    }
    while (this.previousCursor < paths.length && comparePaths(paths[this.previousCursor]!, relPath) < 0) {
      this.previousCursor++;
    }
    if (paths[this.previousCursor] === relPath) return this.previousCursor++;
    // Paths arrive out of order only from snapshotPaths' ancestors; search for those.
    const before = paths[this.previousCursor - 1];
    if (before !== undefined && comparePaths(before, relPath) >= 0)
      return this.previousSnapshot!.indexOf(relPath);
    return -1;
  }

  /** One walked entry; `knownPrevious` is its previous row when the walker found it (-1: none). */
  private add(relPath: string, st: EntryStat, knownPrevious?: number): void {
    if (this.pendingKeep.length > 0) this.copyKept();
    const code = typeCodeOfMode(st.mode);
    if (code < 0) {
      this.emit({ type: 'snapshot-skipped', path: relPath, reason: 'socket' });
      return;
    }
    const i = this.builder.push(relPath);
    if (st.xattrs !== undefined) this.builder.columns.xattrs.set(i, st.xattrs);
    if (st.deferred) {
      // Its stat comes back with its hash (see `hashed`).
      this.builder.columns.types[i] = FILE;
      this.filesToHash++;
      this.queue.add(i, 0);
      this.noteXattrs(i, relPath, code, -1);
      return;
    }
    this.fill(i, code, st);
    const c = this.builder.columns;

    const p = knownPrevious ?? this.findPrevious(relPath);
    const previous = this.previous;
    const prevWords = this.previousWords;
    const words = this.words();
    // Same inode and ctime: nothing about the entry was written since (xattrs and content included).
    const unchangedSincePrevious =
      previous !== undefined &&
      p >= 0 &&
      previous.types[p] === code &&
      sameWords(prevWords!.ctimes, p, words.ctimes, i) &&
      previous.inos[p] === c.inos[i] &&
      previous.devs[p] === c.devs[i];

    if (code === FILE && this.strategy.hashing !== 'none') {
      const carry =
        this.strategy.hashing === 'changed-since-previous' &&
        unchangedSincePrevious &&
        previous!.hashed[p] === 1 &&
        sameWords(prevWords!.mtimes, p, words.mtimes, i) &&
        previous!.sizes[p] === c.sizes[i];
      if (carry) {
        words.hashes[2 * i] = prevWords!.hashes[2 * p]!;
        words.hashes[2 * i + 1] = prevWords!.hashes[2 * p + 1]!;
        c.hashed[i] = 1;
      } else {
        this.filesToHash++;
        this.bytesToHash += c.sizes[i]!;
        this.queue.add(i, c.sizes[i]!);
      }
    }
    this.noteXattrs(i, relPath, code, unchangedSincePrevious ? p : -1);
  }

  /** Row `i`'s stat columns (its type code already checked). */
  private fill(i: number, code: number, st: EntryStat): void {
    const c = this.builder.columns;
    c.types[i] = code;
    c.modes[i] = st.mode & 0o7777;
    c.uids[i] = st.uid;
    c.gids[i] = st.gid;
    c.sizes[i] = code === FILE ? st.size : 0;
    c.mtimes[i] = st.mtimeNs;
    c.ctimes[i] = st.ctimeNs;
    c.devs[i] = st.dev;
    c.inos[i] = st.ino;
    c.nlinks[i] = st.nlink;
    if (code === SYMLINK) c.linkTargets.set(i, st.linkTarget ?? '');
    else if (code === CHAR || code === BLOCK) c.rdevs.set(i, st.rdev);
  }

  /**
   * Row `i`'s xattrs: carried from previous row `unchangedFrom` (≥ 0 when the entry is unchanged since),
   * else asked of the helper, by path (`get`) or with its parent directory's listing (`get-dirs`).
   */
  private noteXattrs(i: number, relPath: string, code: number, unchangedFrom: number): void {
    if (!this.readXattrs || this.xattrsFromWalk) return;
    if (unchangedFrom >= 0) {
      const xattrs = this.previous!.xattrs.get(unchangedFrom);
      if (xattrs !== undefined) this.builder.columns.xattrs.set(i, xattrs);
      return;
    }
    if (this.xattrMode === 'get-dirs') {
      // Every entry is answered from its parent directory's listing (the root's is sent on start).
      if (this.xattrReader === undefined) this.xattrReader = this.startXattrs();
      if (code === typeCode.dir && this.xattrReader) {
        this.xattrReader.add(relPath);
        this.xattrDirs.push(relPath);
      }
    } else {
      if (this.xattrReader === undefined) this.xattrReader = this.startXattrs();
      this.xattrReader?.add(relPath);
      this.xattrIds.push(i);
    }
  }

  /** A file's hash came back (and, when the walk deferred it, its stat). */
  private hashed(id: number, result: HashResultView, index: number, file: string): void {
    const columns = this.builder.columns;
    const status = result.status[index];
    if (status === HASH_OK) {
      if (this.statWhereHashed)
        this.fill(id, FILE, unpackStat(result.statNumbers!, result.statTimes!, index));
      columns.hashes[id] = result.hashes[index]!;
      columns.hashed[id] = 1;
      return;
    }
    if (status === HASH_NOT_FILE) {
      // Replaced since it was listed (the root is being written to): record what is there now, unhashed.
      const st = lstatEntry(file);
      const code = st === undefined ? -1 : typeCodeOfMode(st.mode);
      if (code >= 0) {
        this.fill(id, code, st!);
        return;
      }
    }
    this.emit({ type: 'snapshot-skipped', path: file.slice(this.rootPrefix.length + 1), reason: 'vanished' });
    // Without a stat there is nothing to record; an lstat'ed entry keeps its row, unhashed.
    if (this.statWhereHashed) this.builder.drop(id);
  }

  private async finish(): Promise<Snapshot> {
    const unchanged = this.unchangedPrevious();
    if (unchanged === undefined && this.pendingKeep.length > 0) this.copyKept();
    this.emit({
      type: 'snapshot-walked',
      entries: unchanged?.types.length ?? this.builder.count,
      filesToHash: this.filesToHash,
      ...(this.statWhereHashed ? {} : { bytesToHash: this.bytesToHash }),
      walker: this.xattrsFromWalk ? 'kiln-xattr' : 'node',
      ms: performance.now() - this.start,
    });
    const xattrs = this.xattrResults();
    await this.queue.finish();
    const found = await xattrs;
    if (found !== undefined) this.applyXattrs(found);
    if (unchanged === undefined) this.copyKeptSparse();
    const plain = this.builder.plain;
    const columns = unchanged ?? this.builder.finish();
    const encoding = this.previousEncoding;
    if (unchanged === undefined && encoding !== undefined && plain && this.keptRuns.length > 0) {
      // The next rescan's request, made only if there is one: unchanged runs are byte ranges of this one's.
      const runs = this.keptRuns;
      const previousCount = this.previous!.types.length;
      rememberPathBytes(columns, () => deriveEncodedPaths(encoding, previousCount, runs, columns.paths));
    }
    const stats = {
      // Not paths.length: a loaded snapshot's paths stay bytes until something asks for them as strings.
      entries: columns.types.length,
      bytesHashed: this.queue.bytesHashed,
      filesHashed: this.queue.filesHashed,
      ms: performance.now() - this.start,
    };
    this.emit({ type: 'snapshot-done', stats });
    return new CompactSnapshot(
      this.root,
      this.strategy.name,
      this.strategy.hashing !== 'none',
      columns,
      stats,
    );
  }

  private applyXattrs(records: XattrRecord[]): void {
    const columns = this.builder.columns;
    for (const { seq, entry, xattrs } of records) {
      if (entry === undefined) {
        columns.xattrs.set(this.xattrIds[seq]!, xattrs);
        continue;
      }
      const dir = this.xattrDirs[seq];
      if (dir === undefined) continue;
      // Entries the walk left out (ignored, sockets, created since) are not in the snapshot: dropped.
      const id = this.builder.indexOf(dir === '.' ? entry : `${dir}/${entry}`);
      if (id >= 0) columns.xattrs.set(id, xattrs);
    }
  }

  /** The helper, or null when there is none (then xattrs are not recorded, and an event says so). */
  private startXattrs(): XattrReader | null {
    const helper = xattrHelper(this.xattrMode);
    if (helper === undefined) {
      this.emit({
        type: 'xattrs-unavailable',
        reason: 'no kiln-xattr or python3 to read extended attributes with',
      });
      return null;
    }
    const reader = startXattrReader(this.root, helper, this.xattrMode);
    if (this.xattrMode === 'get-dirs') {
      reader.add('.');
      this.xattrDirs.push('.');
    }
    return reader;
  }

  private async xattrResults(): Promise<XattrRecord[] | undefined> {
    if (!this.xattrReader) return undefined;
    try {
      return await this.xattrReader.result();
    } catch (error) {
      this.emit({ type: 'xattrs-unavailable', reason: String(error) });
      return undefined;
    }
  }
}
