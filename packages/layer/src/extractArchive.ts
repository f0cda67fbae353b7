import {
  chmodSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
import { posix } from 'node:path';
import { isKilnError, KilnError } from '@kiln/errors';
import { type ArchiveCompression, openDecompressed } from './archiveCompression.ts';
import { DeferredMetadata } from './deferredMetadata.ts';
import type { LayerEvent } from './layerEvents.ts';
import { archivePathComponents, RootResolver } from './rootResolver.ts';
import { stopOnAbort } from './stopOnAbort.ts';
import { TarReader, type TarReadHeader } from './tarReader.ts';
import {
  makeSpecialFile,
  openNewFile,
  resolveLinkTarget,
  setMetadata,
  setOwnerAndMode,
  setSymlinkMetadata,
  writeFileContent,
} from './writeEntry.ts';

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
 * Applies entries one by one. Apart from extractLayer's applier (both use `writeEntry.ts` and
 * `DeferredMetadata` for files, links, devices and metadata) because their rules differ: names,
 * whiteouts, owners, and the list of written paths that the layer recorder reads back.
 */
class ArchiveApplier {
  readonly #resolver: RootResolver;
  readonly #options: ExtractArchiveOptions;
  readonly #owners: boolean;
  readonly #written = new Set<string>();
  readonly #deferred: DeferredMetadata;
  entries = 0;

  constructor(root: string, options: ExtractArchiveOptions) {
    this.#resolver = new RootResolver(root);
    this.#options = options;
    this.#owners = options.preserveOwnership ?? process.getuid?.() === 0;
    this.#deferred = new DeferredMetadata(this.#resolver, options.onEvent);
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
    const owner = this.#owners
      ? { uid: this.#options.owner?.uid ?? header.uid, gid: this.#options.owner?.gid ?? header.gid }
      : undefined;
    const existing = lstatSync(abs, { throwIfNoEntry: false });
    // Whatever is there is replaced, except that a directory over a directory merges (moby's untar).
    if (existing !== undefined && !(existing.isDirectory() && header.type === 'dir')) this.#remove(abs);

    switch (header.type) {
      case 'dir': {
        if (existing === undefined || !existing.isDirectory()) mkdirSync(abs, { mode: 0o700 });
        setOwnerAndMode(abs, header, owner);
        this.#deferred.dirTime(rel, header.mtime);
        this.#deferred.xattrs(rel, header);
        return;
      }
      case 'file': {
        await writeFileContent(openNewFile(abs), header, reader, owner);
        this.#deferred.xattrs(rel, header);
        return;
      }
      case 'symlink': {
        // The target is kept as written; following it later resolves inside the root.
        symlinkSync(header.linkname, abs);
        setSymlinkMetadata(abs, header, owner);
        return;
      }
      case 'hardlink': {
        const targetParts = archiveName(header.linkname, 'link target');
        if (targetParts.length === 0) throw unsafe(header.name, 'a hard link to the root');
        const target = resolveLinkTarget(resolver, header.linkname, targetParts);
        // link(2) does not follow a symlink in its last component: a link to a symlink stays one.
        linkSync(target, abs);
        if (owner) lchownSync(abs, owner.uid, owner.gid);
        if (!lstatSync(abs).isSymbolicLink()) {
          chmodSync(abs, header.mode);
          utimesSync(abs, header.mtime, header.mtime);
        }
        return;
      }
      default: {
        makeSpecialFile(abs, header);
        setMetadata(abs, header, owner);
      }
    }
  }

  /**
   * xattrs and directory times, then the written paths, each checked again first: a later entry may
   * have replaced a parent of an earlier one with a symlink, and nothing may follow it out of the root.
   */
  finish(): string[] {
    const intact = this.#deferred.apply();
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
}
