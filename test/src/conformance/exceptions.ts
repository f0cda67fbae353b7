import type { TreeEntry } from '../treeListing.ts';

/**
 * A documented, deliberate difference between the image Kiln builds (following BuildKit) and the
 * one Buildah builds. Each is written up in docs/design.md ("Kiln, BuildKit and Buildah"); a case
 * lists the exceptions it expects, and any other difference fails it.
 */
export interface NamedException {
  name: string;
  reason: string;
  /** `where` is a tree path, or `config.<Field>` (then both entries are undefined). */
  covers(where: string, kiln: TreeEntry | undefined, buildah: TreeEntry | undefined): boolean;
}

const buildahRunFiles = new Set(['etc/hosts', 'etc/resolv.conf', 'etc/hostname', 'run', 'run/.containerenv']);
const mountPointDirs = new Set(['dev', 'proc', 'sys', 'etc']);

export const exceptions = {
  buildahRunMountPoints: {
    name: 'buildah-run-mount-points',
    reason:
      "Buildah's RUN leaves its mount points in the image (/etc/hosts, /etc/resolv.conf, /etc/hostname, " +
      '/run/.containerenv, and on a scratch base empty /dev, /proc, /sys, /etc); Kiln removes the ones it made',
    covers: (path, kiln, buildah) =>
      kiln === undefined &&
      (buildahRunFiles.has(path) || (mountPointDirs.has(path) && buildah?.type === 'dir')),
  },
  scratchWorkdir: {
    name: 'scratch-workdir',
    reason:
      "BuildKit's FROM scratch config has WorkingDir / (and the default PATH); Buildah's has no WorkingDir",
    covers: (path) => path === 'config.WorkingDir',
  },
} satisfies Record<string, NamedException>;

/**
 * COPY --chmod of a source directory to a path without a trailing / that does not exist yet:
 * BuildKit's copier creates it with the source's metadata and the --chmod mode; Buildah creates
 * it 0755. Bound to the paths a case expects it at, so it cannot hide the same symptom elsewhere.
 */
export function chmodOnCreatedDirectory(...paths: string[]): NamedException {
  return {
    name: 'chmod-on-created-directory',
    reason:
      'BuildKit applies --chmod to a directory COPY creates from a source directory; Buildah leaves it 0755',
    covers: (path, kiln, buildah) =>
      paths.includes(path) &&
      kiln?.type === 'dir' &&
      buildah?.type === 'dir' &&
      buildah.mode === 0o755 &&
      kiln.uid === buildah.uid &&
      kiln.gid === buildah.gid,
  };
}

/**
 * RUN --mount targets whose parents the base lacks: BuildKit's mount-stub cleaner removes every
 * directory it made for a mount point once the command ends, and so does Kiln; Buildah removes the
 * target but leaves the parent directories it created. Bound to the parents a case creates.
 */
export function buildahMountParents(...paths: string[]): NamedException {
  return {
    name: 'buildah-mount-parents',
    reason:
      'Buildah leaves the parent directories it created for RUN --mount targets; BuildKit and Kiln remove them',
    covers: (path, kiln, buildah) => paths.includes(path) && kiln === undefined && buildah?.type === 'dir',
  };
}

// `.dockerignore` exceptions with wildcards (`*`, then `!**/keep.txt`): BuildKit's context walker
// (fsutil) descends into excluded directories whenever a wildcard exception could match below
// them, and sends what it re-includes with its parents; Buildah (the classic builder's prefix
// check) skips those directories, so nothing below them comes back. Bound to the paths a case
// re-includes.
export function buildahPrunesExcludedDirectories(...paths: string[]): NamedException {
  return {
    name: 'buildah-prunes-excluded-directories',
    reason:
      'Buildah does not re-include files below a directory excluded by a wildcard; BuildKit and Kiln do',
    covers: (path, kiln, buildah) => paths.includes(path) && kiln !== undefined && buildah === undefined,
  };
}
