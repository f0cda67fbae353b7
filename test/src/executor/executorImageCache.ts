import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buildExecutorImage, pinnedNodeVersion } from '@kiln/executor-image';
import {
  busyboxBinary,
  fixtureCacheDir,
  type ImageRegistry,
  type PushedImage,
  runChecked,
} from '@kiln/fixtures/images';
import { repoRoot } from '../kilnProcess.ts';

/** A plain-HTTP registry (`startRegistry({ mode: 'plain' })`). */
export type PlainRegistry = ImageRegistry & { host: string };

export interface ExecutorImageRefs {
  latest: PushedImage;
  debug: PushedImage;
  /** Whether this call built the image (false: pushed from the cache). */
  built: boolean;
  /** The content hash naming the cache entry. */
  hash: string;
}

// What the executor image is made of: the CLI bundle's sources, the image recipe, the staging code.
const inputRoots = ['packages', 'images/executor', 'fixtures/src/images', 'pnpm-lock.yaml'];
const variants = ['latest', 'debug'] as const;
// A lock older than this belongs to a run that died; building takes a few minutes at most.
const staleLockMs = 30 * 60_000;
// Entries are ~90 MB and every source edit makes a new one: keep the newest few.
const keptEntries = 3;

/**
 * The executor image (`:latest` and `:debug`) in `registry` as `kiln/executor`, built with
 * `buildExecutorImage` only when its inputs changed: a build (CLI bundle, Node staging, two kiln builds)
 * takes 15 s here and much longer under load, and every executor test file needs the image. The cache
 * is skopeo's `dir:` format, which keeps manifests byte for byte, so digests survive the round trip.
 */
export async function provideExecutorImages(registry: PlainRegistry): Promise<ExecutorImageRefs> {
  const hash = await executorInputsHash();
  const entry = join(fixtureCacheDir(), 'executor-image', hash.slice(0, 24));
  const lock = `${entry}.lock`;
  await mkdir(join(fixtureCacheDir(), 'executor-image'), { recursive: true });
  let built = false;
  while (!existsSync(join(entry, 'debug', 'manifest.json'))) {
    if (await takeLock(lock)) {
      try {
        if (!existsSync(join(entry, 'debug', 'manifest.json'))) {
          await buildIntoCache(registry, entry);
          built = true;
        }
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
    } else {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  const refs = {} as Record<(typeof variants)[number], PushedImage>;
  for (const variant of variants) {
    const reference = `${registry.host}/kiln/executor:${variant}`;
    if (!built)
      await runChecked('skopeo', [
        'copy',
        '--quiet',
        ...tlsFlags('dest'),
        `dir:${join(entry, variant)}`,
        `docker://${reference}`,
      ]);
    const manifest = await readFile(join(entry, variant, 'manifest.json'));
    refs[variant] = { reference, digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}` };
  }
  return { ...refs, built, hash };
}

async function buildIntoCache(registry: PlainRegistry, entry: string): Promise<void> {
  const staging = `${entry}.build-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const images = await buildExecutorImage({
    registry,
    contextDir: join(fixtureCacheDir(), `executor-context-${process.pid}`),
  });
  try {
    for (const variant of variants) {
      await runChecked('skopeo', [
        'copy',
        '--quiet',
        ...tlsFlags('src'),
        `docker://${images[variant].reference}`,
        `dir:${join(staging, variant)}`,
      ]);
    }
    await rename(staging, entry);
    await pruneCache(join(entry, '..'));
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(images.staged.dir, { recursive: true, force: true });
  }
}

/** Removes all but the newest `keptEntries` cache entries (locks and builds in progress are left). */
async function pruneCache(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((name) => /^[0-9a-f]{24}$/.test(name));
  const dated = await Promise.all(
    names.map(async (name) => ({ name, mtimeMs: (await stat(join(dir, name))).mtimeMs })),
  );
  dated.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const { name } of dated.slice(keptEntries))
    await rm(join(dir, name), { recursive: true, force: true });
}

async function takeLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > staleLockMs) await rm(lock, { recursive: true, force: true });
    return false;
  }
}

// The executor image always lives in a plain-HTTP test registry (what podman pulls it from).
function tlsFlags(side: 'src' | 'dest'): string[] {
  return [`--${side}-tls-verify=false`];
}

/**
 * sha256 over every source file that goes into the image (tests excluded: they are not bundled),
 * the busybox binary and the pinned Node version. Uncommitted edits count: others work in this tree.
 */
export async function executorInputsHash(): Promise<string> {
  const listed = await runChecked('git', [
    '-C',
    repoRoot,
    'ls-files',
    '-z',
    '--cached',
    '--others',
    '--exclude-standard',
    '--',
    ...inputRoots,
  ]);
  const files = [...new Set(listed.split('\0'))]
    .filter((path) => path !== '' && !/\.test\.ts$/.test(path) && !/(^|\/)README\.md$/.test(path))
    .sort();
  const hash = createHash('sha256');
  for (const path of files) {
    const content = await readFile(join(repoRoot, path)).catch(() => undefined);
    if (content === undefined) continue; // deleted in the working tree
    hash.update(`${path}\0${content.length}\0`).update(content);
  }
  hash.update(await readFile(busyboxBinary));
  hash.update(`node ${await pinnedNodeVersion()}`);
  return hash.digest('hex');
}
