import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { busyboxBinary, fixtureCacheDir, runChecked } from '@kiln/fixtures/images';
import { architectureFacts, type ExecutorArchitecture, hostArchitecture } from './architectures.ts';

/** Where the image's glibc and busybox come from for one architecture. */
export interface ArchitectureRuntime {
  /** Directories searched, in order, for the libraries Node links (by soname). */
  libraryDirs: string[];
  /** A static busybox of this architecture (the `debug` target's shell). */
  busybox: string;
}

// glibc (loader, libc, libm, libdl, libpthread), libstdc++ and libgcc_s: what Node's NEEDED lists; and
// busybox-static for `:debug`. Debian's own packages, as the build machine's are for its architecture.
const runtimePackages = ['libc6', 'libstdc++6', 'libgcc-s1', 'busybox-static'];

/**
 * The runtime files for `architecture`: the build machine's own `/lib/<triplet>` and busybox for its
 * architecture; for the other one, Debian's packages of that architecture fetched by `apt-get
 * download` (multiarch, added by scripts/bootstrap.sh) and unpacked with `dpkg-deb -x` into the fixture
 * cache, never installed.
 */
export async function ensureArchitectureRuntime(
  architecture: ExecutorArchitecture,
): Promise<ArchitectureRuntime> {
  const { triplet } = architectureFacts[architecture];
  if (architecture === hostArchitecture()) {
    return { libraryDirs: [`/lib/${triplet}`, `/usr/lib/${triplet}`], busybox: busyboxBinary };
  }
  const dir = join(fixtureCacheDir(), `debian-runtime-${architecture}`);
  if (!existsSync(join(dir, 'packages.txt'))) await downloadRuntime(architecture, dir);
  return {
    libraryDirs: [join(dir, 'lib', triplet), join(dir, 'usr/lib', triplet)],
    busybox: join(dir, 'bin/busybox'),
  };
}

async function downloadRuntime(architecture: ExecutorArchitecture, dir: string): Promise<void> {
  const download = `${dir}.tmp-${process.pid}`;
  await rm(download, { recursive: true, force: true });
  await mkdir(join(download, 'debs'), { recursive: true });
  try {
    const packages = runtimePackages.map((name) => `${name}:${architecture}`);
    await runChecked('apt-get', ['download', '-q', ...packages], {
      cwd: join(download, 'debs'),
      timeoutMs: 600_000,
    }).catch((error: unknown) => {
      throw new KilnError('EXECUTOR_IMAGE_STAGING', `apt-get download ${packages.join(' ')} failed`, {
        hint: `add the architecture and refresh the lists: dpkg --add-architecture ${architecture} && apt-get update (scripts/bootstrap.sh does)`,
        cause: error,
      });
    });
    const debs = (await readdir(join(download, 'debs'))).filter((name) => name.endsWith('.deb')).sort();
    for (const deb of debs) {
      await runChecked('dpkg-deb', ['-x', join(download, 'debs', deb), join(download, 'tree')]);
    }
    // The versions the image's libraries came from, for whoever audits them.
    await writeFile(join(download, 'tree/packages.txt'), `${debs.join('\n')}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(join(download, 'tree'), dir);
  } finally {
    await rm(download, { recursive: true, force: true });
  }
}
