import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { AddInstruction, CopyInstruction, EscapeChar } from '@kiln/dockerfile';
import { expandHeredocContent, expandWord, heredocNameOf } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import { imagePathOf, type LayerEvent, resolveInRoot } from '@kiln/layer';
import { resolveUser } from '../stage/resolveUser.ts';
import type { StageState } from '../stage/stageState.ts';
import { stageLookup } from '../stage/stageState.ts';
import { extractArchive, isLocalArchive } from './archive.ts';
import { type CopyTarget, copyEntry, ensureImageDir, hashEntry } from './copyTree.ts';
import { downloadSource } from './downloadSource.ts';
import { type GitSource, parseGitSource } from './gitSource.ts';
import { createParentDirs, splitParentsPivot } from './parentsSource.ts';
import { refuseUnsupportedFlags } from './refuseUnsupportedFlags.ts';
import { expandSourceWildcard, hasWildcard, relativeSourcePath } from './sourceRoot.ts';

export interface CopySource {
  /** Host directory the sources are relative to: the context, a stage root or an image's tree. */
  root: string;
  kind: 'context' | 'stage' | 'image';
  /** The `--from` value as written, for history. */
  from?: string;
  /** .dockerignore for the context (relative path, is-directory) → excluded. */
  isIgnored?: (relativePath: string, isDir: boolean, whenEmpty?: boolean) => boolean;
}

export interface CopyStepInput {
  state: StageState;
  instruction: CopyInstruction | AddInstruction;
  source: CopySource;
  escape: EscapeChar;
  /** `Dockerfile:12`, for messages. */
  where: string;
  /** Scratch space for downloads and heredoc files. */
  scratchDir: string;
  /** --exclude patterns compiled by the caller (they share .dockerignore's syntax). */
  isExcluded?: (relativePath: string, isDir: boolean, whenEmpty?: boolean) => boolean;
  /**
   * Asked once the sources are hashed, before anything is written: resolving true (a layer cache
   * hit) skips the copy.
   */
  beforeCopy?: (contentHash: string, createdBy: string) => Promise<boolean>;
  /**
   * The sources' hash and history text, when the stage's look-ahead already read them for this step
   * (same context, same expanded instruction): the sources are not read a second time to hash them.
   */
  known?: { contentHash: string; createdBy: string };
  /** Stops downloads, archive unpacking and the copy between entries. */
  signal?: AbortSignal;
  /** What unpacking an ADD'ed archive reports (xattrs it could not set). */
  onLayerEvent?: (event: LayerEvent) => void;
}

export interface CopyStepResult {
  /** `beforeCopy` answered true: nothing was written. */
  skipped: boolean;
  /** In-image paths created or replaced, sorted. */
  touched: string[];
  /** sha256 over every copied entry (names, modes, content): the cache key's source part. */
  contentHash: string;
  createdBy: string;
}

/** COPY and ADD: resolves sources, copies them into the stage root, reports what changed. */
export async function copyInstruction(input: CopyStepInput): Promise<CopyStepResult> {
  try {
    return await copySources(input);
  } catch (error) {
    if (error instanceof KilnError || !isFileSystemError(error)) throw error;
    // A file system error's message names host paths (the context's, the work dir's): keep what failed.
    throw new KilnError(
      'COPY_FAILED',
      `${input.where}: ${input.instruction.kind} failed: ${error.syscall ?? 'I/O'} ${error.code}`,
    );
  }
}

function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).path === 'string';
}

async function copySources(input: CopyStepInput): Promise<CopyStepResult> {
  const { state, instruction, source, where } = input;
  refuseUnsupportedFlags(instruction, where);
  const lookup = stageLookup(state);
  const expand = (word: string) => expandWord(word, lookup, { escape: input.escape });
  const workdir = state.config.config.WorkingDir || '/';
  const rawDestination = expand(instruction.destination);
  const destination = posix.resolve(workdir, rawDestination);
  const destinationIsDir =
    rawDestination.endsWith('/') || rawDestination.endsWith('/.') || rawDestination === '.';

  const ownership: CopyTarget['ownership'] = {};
  const chown = instruction.options.chown === undefined ? undefined : expand(instruction.options.chown);
  if (chown !== undefined) {
    const user = await resolveUser(state.root, chown);
    ownership.uid = user.uid;
    ownership.gid = user.gid;
  } else if (source.kind === 'context' || instruction.kind === 'ADD') {
    ownership.uid = 0;
    ownership.gid = 0;
  }
  if (instruction.options.chmod !== undefined) {
    const chmod = expand(instruction.options.chmod);
    if (!/^[0-7]{3,4}$/.test(chmod)) {
      throw new KilnError('INVALID_CHMOD', `${where}: --chmod=${chmod} is not an octal mode`, {
        hint: 'e.g. --chmod=0755',
      });
    }
    ownership.mode = Number.parseInt(chmod, 8);
  }
  const hash = createHash('sha256');
  const excluded = (relative: string, isDir: boolean, whenEmpty?: boolean) =>
    Boolean(source.isIgnored?.(relative, isDir, whenEmpty) || input.isExcluded?.(relative, isDir, whenEmpty));
  // A git source is not the context: .dockerignore does not reach it, --exclude does.
  const gitExcluded = (relative: string, isDir: boolean, whenEmpty?: boolean) =>
    Boolean(input.isExcluded?.(relative, isDir, whenEmpty));
  const target: CopyTarget = {
    root: state.root,
    ownership,
    touched: new Set(),
    isExcluded: excluded,
    ...(input.signal ? { signal: input.signal } : {}),
  };
  // What the copy does beyond its sources' content: where, and the ownership and mode it sets.
  hash.update(
    JSON.stringify([instruction.kind, destination, destinationIsDir, chown ?? null, ownership.mode ?? null]),
  );

  // Each entry: a host path to copy and the name it gets when the destination is a directory.
  // `under`: with --parents, where below the destination the item goes, after its pivot.
  const items: {
    hostPath: string;
    relative: string;
    name: string;
    archive: boolean;
    parents?: { pivot: string; under: string };
    /** A git source, fetched into `hostPath` only on a cache miss: its tree's contents go into the destination, no ignore rules apply. */
    git?: { source: GitSource; commit: string; gitdir: string };
  }[] = [];
  const parents = instruction.options.parents;
  for (const word of instruction.sources) {
    const heredoc = heredocFor(instruction, word);
    if (heredoc) {
      const file = join(input.scratchDir, `heredoc-${heredoc.name}-${items.length}`);
      await mkdir(input.scratchDir, { recursive: true });
      // BuildKit expands heredoc bodies raw: quotes stay text, only variables and `\` escapes apply.
      const content = heredoc.expand ? expandHeredocContent(heredoc.content, lookup) : heredoc.content;
      await writeFile(file, content, { mode: 0o644 });
      items.push({ hostPath: file, relative: heredoc.name, name: heredoc.name, archive: false });
      continue;
    }
    const text = expand(word);
    const gitSource = instruction.kind === 'ADD' ? parseGitSource(text) : undefined;
    if (gitSource) {
      const dir = join(input.scratchDir, `git-${items.length}`);
      const gitdir = join(input.scratchDir, `gitdir-${items.length}`);
      // Resolved on the server only: the tree is fetched after the cache lookup, on a miss.
      // isomorphic-git loads with the first git source, not with every build.
      const { resolveGitSourceCommit } = await import('./fetchGitSource.ts');
      const commit = await resolveGitSourceCommit(gitSource, where, input.signal);
      // For a git source the checksum is the commit it must resolve to, never ignored.
      const checksumWord = instruction.kind === 'ADD' ? instruction.options.checksum : undefined;
      const checksum = checksumWord === undefined ? undefined : expand(checksumWord);
      if (checksum !== undefined && checksum.toLowerCase() !== commit) {
        throw new KilnError(
          'ADD_CHECKSUM_MISMATCH',
          `${where}: ${text} is at commit ${commit}, not ${checksum}`,
          {
            exitCode: 2,
          },
        );
      }
      // The commit is the key: a new commit on the branch re-runs the step, the same one hits.
      // The commit fixes the tree; --exclude is the rest of what the copy takes from it.
      hash.update(`git:${gitSource.url}\0${commit}\0${gitSource.subdir ?? ''}\0`);
      hash.update(`exclude:${JSON.stringify(instruction.options.exclude)}\0`);
      items.push({
        hostPath: dir,
        relative: '',
        name: '',
        archive: false,
        git: { source: gitSource, commit, gitdir },
      });
      continue;
    }
    if (instruction.kind === 'ADD' && /^https?:\/\//i.test(text)) {
      await mkdir(input.scratchDir, { recursive: true });
      const download = await downloadSource(
        text,
        join(input.scratchDir, `download-${items.length}`),
        instruction.options.checksum === undefined ? undefined : expand(instruction.options.checksum),
        where,
        input.signal,
      );
      hash.update(`url:${text}\0${download.sha256}\0`);
      if (ownership.mode === undefined) ownership.mode = 0o600;
      // A download is unpacked only when asked with --unpack=true, as in BuildKit.
      const archive = instruction.options.unpack === true && (await isLocalArchive(download.path));
      items.push({ hostPath: download.path, relative: download.fileName, name: download.fileName, archive });
      continue;
    }
    const split = parents ? splitParentsPivot(text) : { pivot: '', kept: text };
    const pivot = split.pivot === '' ? '' : relativeSourcePath(split.pivot, where);
    const relative = posix.join(pivot, relativeSourcePath(split.kept, where)).replace(/^\.$/, '');
    const matches = hasWildcard(relative)
      ? await expandSourceWildcard(source.root, relative, where)
      : [relative];
    const kept: string[] = [];
    for (const match of matches) {
      // A directory is asked as one: an ignored directory an exception reaches into still counts.
      if (match !== '' && excluded(match, await isDirInRoot(source.root, match))) continue;
      // Resolved inside the root: a link leaving the context (or stage) points at nothing.
      if (await exists(source.root, match)) kept.push(match);
    }
    if (kept.length === 0 || (!hasWildcard(relative) && kept.length !== matches.length)) {
      throw new KilnError(
        'COPY_SOURCE_MISSING',
        `${where}: ${instruction.kind} source "${text}" not found in the ${describeSource(source)}`,
        { hint: source.kind === 'context' ? 'check the path and .dockerignore' : undefined },
      );
    }
    for (const match of kept) {
      // The source itself may be a link inside the context: follow it, but never out of the root.
      const hostPath = await resolveInRoot(source.root, match);
      // With --parents BuildKit copies from a directory with an include pattern: nothing unpacks.
      const unpack = instruction.kind === 'ADD' && instruction.options.unpack !== false && !parents;
      const archive = unpack && (await stat(hostPath)).isFile() && (await isLocalArchive(hostPath));
      const under = pivot === '' ? match : match.slice(pivot.length + 1);
      items.push({
        hostPath,
        relative: match,
        name: posix.basename(match),
        archive,
        ...(parents ? { parents: { pivot, under } } : {}),
      });
    }
  }
  if (items.length > 1 && !destinationIsDir && !parents) {
    throw new KilnError(
      'COPY_DESTINATION_NOT_DIR',
      `${where}: with more than one source the destination must be a directory ending in /`,
      { hint: `write ${rawDestination}/` },
    );
  }
  const hashItems = async () => {
    for (const item of items) {
      // A git source is keyed by its commit above: nothing of it is fetched before the cache lookup.
      if (item.git) continue;
      if (item.archive) {
        hash.update(`archive:${item.relative}\0`);
        for await (const chunk of createReadStream(item.hostPath)) hash.update(chunk as Buffer);
      } else {
        if (item.parents) hash.update(`parents:${item.parents.under}\0`);
        await hashEntry(hash, item.hostPath, item.relative, excluded, input.signal);
      }
    }
    const contentHash = hash.digest('hex');
    const fromText = source.from === undefined ? '' : `--from=${source.from} `;
    const kindText = items.length === 1 && !items[0]?.archive ? 'file' : 'multi';
    const createdBy = `/bin/sh -c #(nop) ${instruction.kind} ${fromText}${kindText}:${contentHash} in ${destination} `;
    return { contentHash, createdBy };
  };
  const { contentHash, createdBy } = input.known ?? (await hashItems());
  if (await input.beforeCopy?.(contentHash, createdBy))
    return { skipped: true, touched: [], contentHash, createdBy };
  for (const item of items) {
    if (item.git) {
      const { source: gitSource, commit, gitdir } = item.git;
      const { fetchGitSource } = await import('./fetchGitSource.ts');
      await fetchGitSource(gitSource, commit, item.hostPath, gitdir, where, input.signal);
    }
    const info = await stat(item.hostPath);
    if (item.git) {
      // As COPY of a directory, into the destination whether or not it ends in /.
      await ensureImageDir(target, destination);
      await copyEntry({ ...target, isExcluded: gitExcluded }, item.hostPath, item.relative, destination);
    } else if (item.parents) {
      await ensureImageDir(target, destination);
      await createParentDirs(target, source.root, item.parents.pivot, item.parents.under, destination);
      await copyEntry(target, item.hostPath, item.relative, posix.join(destination, item.parents.under));
    } else if (item.archive) {
      const hostDir = await ensureImageDir(target, destination);
      // The archive keeps its owners unless --chown; what it wrote is named as resolved in-image paths.
      const owner = chown === undefined ? undefined : { uid: ownership.uid ?? 0, gid: ownership.gid ?? 0 };
      const written = await extractArchive(item.hostPath, hostDir, where, {
        imageDir: destination,
        ...(owner ? { owner } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
        ...(input.onLayerEvent ? { onEvent: input.onLayerEvent } : {}),
      });
      for (const member of written) target.touched.add(imagePathOf(state.root, join(hostDir, member)));
    } else if (info.isDirectory()) {
      // `dest/` is made first (0755, the --chown owner), so it never takes the source's metadata.
      if (destinationIsDir) await ensureImageDir(target, destination);
      await copyEntry(target, item.hostPath, item.relative, destination);
    } else {
      const existingDir = await isDirInRoot(state.root, destination);
      const fileDestination =
        destinationIsDir || existingDir ? posix.join(destination, item.name) : destination;
      await copyEntry(target, item.hostPath, item.relative, fileDestination);
    }
  }
  return { skipped: false, touched: [...target.touched].sort(), contentHash, createdBy };
}

function heredocFor(instruction: CopyInstruction | AddInstruction, word: string) {
  const name = heredocNameOf(word);
  return name === undefined ? undefined : instruction.heredocs.find((heredoc) => heredoc.name === name);
}

async function exists(root: string, relative: string): Promise<boolean> {
  try {
    await lstat(await resolveInRoot(root, relative));
    return true;
  } catch {
    return false;
  }
}

async function isDirInRoot(root: string, path: string): Promise<boolean> {
  try {
    return (await stat(await resolveInRoot(root, path))).isDirectory();
  } catch {
    return false;
  }
}

function describeSource(source: CopySource): string {
  if (source.kind === 'context') return 'build context';
  return `${source.kind} "${source.from}"`;
}
