import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { posix } from 'node:path';
import { isKilnError, KilnError } from '@kiln/errors';
import { type ArchiveCompression, openDecompressed } from './archiveCompression.ts';
import { IntactPaths } from './intactPaths.ts';
import type { LayerEvent } from './layerEvents.ts';
import { archivePathComponents, RootResolver } from './rootResolver.ts';
import { setXattrs, type XattrTarget } from './setXattrs.ts';
import { stopOnAbort } from './stopOnAbort.ts';
import { TarReader, type TarReadHeader } from './tarReader.ts';

export interface ExtractArchiveOptions {
  /** `ADD --chown`: every entry gets this owner instead of the archive's. */
  owner?: { uid: number; gid: number };
  /** Set owners (the archive's, or `owner`); default when running as root. */
  preserveOwnership?: boolean;
  onEvent?: (event: LayerEvent) => void;
  /** Stops the extraction between chunks of the archive (a build interrupted by a signal). */
  signal?: AbortSignal;
}

export interface ExtractArchiveResult {
  compression: ArchiveCompression;
  entries: number;
  /** Paths written, relative to the root, resolved (no symlink in them), sorted; gone ones left out. */
  paths: string[];
}

const writeFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Whether a file is a tar archive as BuildKit decides for ADD: it decompresses (gzip, bzip2, xz,
 * zstd or none, by content) and its first tar header reads. Anything else is copied as a file.
 */
export async function isTarArchive(path: string): Promise<boolean> {
  const file = await openDecompressed(path);
  try {
    return (await new TarReader(file.stream).next()) !== null;
  } catch (error) {
    // A tar whose first entry Kiln cannot apply is still a tar: extracting it says why.
    return isKilnError(error) && error.code === 'LAYER_UNSUPPORTED_ENTRY';
  } finally {
    file.close();
  }
}

/**
 * Unpacks an archive (`ADD`) into `root` with the same confinement as base layers, `root` being the
 * destination directory as BuildKit's chroot sees it: every entry name, symlinked parent and hard-link
 * target resolves inside it (an absolute symlink target restarts at it), and a `..` that would climb
 * above it is refused (`LAYER_UNSAFE_PATH`). Unlike a layer: leading `/` in names are dropped, `.wh.*`
 * entries are ordinary files, unknown entry types are refused, and the written paths are returned.
 */
export async function extractArchive(
  path: string,
  root: string,
  options: ExtractArchiveOptions = {},
): Promise<ExtractArchiveResult> {
  options.signal?.throwIfAborted();
  const file = await openDecompressed(path);
  const applier = new ArchiveApplier(realpathSync(root), options);
  try {
    const reader = new TarReader(options.signal ? stopOnAbort(file.stream, options.signal) : file.stream);
    for (let header = await reader.next(); header !== null; header = await reader.next()) {
      await applier.apply(header, reader);
    }
  } catch (error) {
    if (isKilnError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new KilnError('ARCHIVE_UNREADABLE', `cannot read the ${file.compression} archive: ${reason}`, {
      cause: error,
    });
  } finally {
    file.close();
  }
  const paths = applier.finish();
  return { compression: file.compression, entries: applier.entries, paths };
}

function unsafe(name: string, why: string): KilnError {
  return new KilnError('LAYER_UNSAFE_PATH', `archive entry "${name}" refused: ${why}`, {
    hint: 'the archive tries to write outside the directory it is unpacked into; it may be malicious',
  });
}

/**
 * An archive name as BuildKit reads it: leading `/` dropped, cleaned lexically (`a/../b` is `b`), and
 * a name that still climbs out refused. Returns its components ([] for the root itself).
 */
function archiveName(name: string, what: string): string[] {
  const cleaned = posix.normalize(name.replace(/^\/+/, '') || '.');
  if (cleaned === '..' || cleaned.startsWith('../')) throw unsafe(name, `its ${what} climbs above the root`);
  return archivePathComponents(cleaned === '.' || cleaned === './' ? '' : cleaned);
}

/**
 * Applies entries one by one. Written apart from extractLayer's applier (which it mirrors for
 * files, links and devices) because what differs is most of it: names, whiteouts, owners, and the
 * list of written paths that the layer recorder reads back.
 */
class ArchiveApplier {
  readonly #resolver: RootResolver;
  readonly #options: ExtractArchiveOptions;
  readonly #owners: boolean;
  readonly #written = new Set<string>();
  readonly #dirTimes: Array<[string, number]> = [];
  readonly #pendingXattrs: Array<XattrTarget & { rel: string }> = [];
  entries = 0;

  constructor(root: string, options: ExtractArchiveOptions) {
    this.#resolver = new RootResolver(root);
    this.#options = options;
    this.#owners = options.preserveOwnership ?? process.getuid?.() === 0;
  }

  async apply(header: TarReadHeader, reader: TarReader): Promise<void> {
    const parts = archiveName(header.name, 'name');
    // The root itself ("./"): the destination keeps its own metadata, as in BuildKit.
    if (parts.length === 0) return;
    if (header.type === 'other') {
      throw new KilnError(
        'LAYER_UNSUPPORTED_ENTRY',
        `archive entry "${header.name}" has tar type ${JSON.stringify(header.typeflag)}, which ADD cannot unpack`,
      );
    }
    this.entries++;
    const resolver = this.#resolver;
    const base = parts[parts.length - 1]!;
    const parentRel = resolver.resolveDir(header.name, parts.slice(0, -1), true);
    const rel = parentRel === '' ? base : `${parentRel}/${base}`;
    const abs = resolver.abs(rel);
    this.#written.add(rel);
    const uid = this.#options.owner?.uid ?? header.uid;
    const gid = this.#options.owner?.gid ?? header.gid;
    const existing = lstatSync(abs, { throwIfNoEntry: false });
    // Whatever is there is replaced, except that a directory over a directory merges (moby's untar).
    if (existing !== undefined && !(existing.isDirectory() && header.type === 'dir')) this.#remove(abs);

    switch (header.type) {
      case 'dir': {
        if (existing === undefined || !existing.isDirectory()) mkdirSync(abs, { mode: 0o700 });
        if (this.#owners) lchownSync(abs, uid, gid);
        chmodSync(abs, header.mode);
        this.#dirTimes.push([rel, header.mtime]);
        this.#xattrs(rel, header);
        return;
      }
      case 'file': {
        const fd = openSync(abs, writeFlags, 0o600);
        try {
          await reader.readContent((chunk) => {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          });
          if (this.#owners) fchownSync(fd, uid, gid);
          fchmodSync(fd, header.mode);
          futimesSync(fd, header.mtime, header.mtime);
        } finally {
          closeSync(fd);
        }
        this.#xattrs(rel, header);
        return;
      }
      case 'symlink': {
        // The target is kept as written; following it later resolves inside the root.
        symlinkSync(header.linkname, abs);
        if (this.#owners) lchownSync(abs, uid, gid);
        lutimesSync(abs, header.mtime, header.mtime);
        return;
      }
      case 'hardlink': {
        const targetParts = archiveName(header.linkname, 'link target');
        if (targetParts.length === 0) throw unsafe(header.name, 'a hard link to the root');
        const targetParent = resolver.resolveDir(header.linkname, targetParts.slice(0, -1), false);
        const targetName = targetParts[targetParts.length - 1]!;
        const target = resolver.abs(targetParent === '' ? targetName : `${targetParent}/${targetName}`);
        // link(2) does not follow a symlink in its last component: a link to a symlink stays one.
        linkSync(target, abs);
        if (this.#owners) lchownSync(abs, uid, gid);
        if (!lstatSync(abs).isSymbolicLink()) {
          chmodSync(abs, header.mode);
          utimesSync(abs, header.mtime, header.mtime);
        }
        return;
      }
      default: {
        // Devices and fifos: Node has no mknod, so the coreutils tools make them.
        const mode = (header.mode & 0o7777).toString(8);
        if (header.type === 'fifo') {
          execFileSync('mkfifo', ['-m', mode, abs], { stdio: 'pipe' });
        } else {
          const kind = header.type === 'char' ? 'c' : 'b';
          const device = [String(header.devmajor), String(header.devminor)];
          execFileSync('mknod', ['-m', mode, abs, kind, ...device], { stdio: 'pipe' });
        }
        if (this.#owners) lchownSync(abs, uid, gid);
        chmodSync(abs, header.mode);
        utimesSync(abs, header.mtime, header.mtime);
      }
    }
  }

  /**
   * xattrs (after every chown, which clears capabilities) and directory times, then the written
   * paths. A later entry may have replaced a parent of an earlier one with a symlink, so each path
   * is checked again first: nothing here may follow a link out of the root.
   */
  finish(): string[] {
    const root = this.#resolver.root;
    const intact = new IntactPaths(root);
    const xattrs = this.#pendingXattrs.filter((target) => intact.exists(target.rel));
    for (const failure of setXattrs(xattrs)) {
      this.#options.onEvent?.({
        type: 'extract-xattr-skipped',
        path: failure.path.slice(root.length + 1),
        names: [failure.name],
        reason: failure.reason,
      });
    }
    // Deepest first, so setting a parent's time is not undone by touching its children.
    for (let i = this.#dirTimes.length - 1; i >= 0; i--) {
      const [rel, mtime] = this.#dirTimes[i]!;
      if (intact.isRealDir(rel)) utimesSync(this.#resolver.abs(rel), mtime, mtime);
    }
    return [...this.#written].filter((rel) => intact.exists(rel)).sort();
  }

  #remove(abs: string): void {
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (st === undefined) return;
    if (st.isDirectory()) rmSync(abs, { recursive: true, force: true });
    else unlinkSync(abs);
    // Cached resolutions may pass through what was removed.
    this.#resolver.invalidate();
  }

  #xattrs(rel: string, header: TarReadHeader): void {
    if (header.xattrs !== undefined) {
      this.#pendingXattrs.push({ rel, path: this.#resolver.abs(rel), xattrs: header.xattrs });
    }
  }
}
