import { join } from 'node:path';
import { busyboxBinary, ensureForeignDebs } from '@kiln/fixtures/images';
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
 * architecture; for the other one, Debian's packages of that architecture (`ensureForeignDebs`).
 */
export async function ensureArchitectureRuntime(
  architecture: ExecutorArchitecture,
): Promise<ArchitectureRuntime> {
  const { triplet } = architectureFacts[architecture];
  if (architecture === hostArchitecture()) {
    return { libraryDirs: [`/lib/${triplet}`, `/usr/lib/${triplet}`], busybox: busyboxBinary };
  }
  const dir = await ensureForeignDebs(architecture, runtimePackages);
  return {
    libraryDirs: [join(dir, 'lib', triplet), join(dir, 'usr/lib', triplet)],
    busybox: join(dir, 'bin/busybox'),
  };
}
