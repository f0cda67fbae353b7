import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** ELF `e_machine`, class (1: 32-bit, 2: 64-bit) and byte order (1: little, 2: big) per OCI architecture. */
const elfMachines: Record<string, { machine: number; elfClass: number; order: number }> = {
  amd64: { machine: 0x3e, elfClass: 2, order: 1 },
  arm64: { machine: 0xb7, elfClass: 2, order: 1 },
  arm: { machine: 0x28, elfClass: 1, order: 1 },
  '386': { machine: 0x03, elfClass: 1, order: 1 },
  ppc64le: { machine: 0x15, elfClass: 2, order: 1 },
  s390x: { machine: 0x16, elfClass: 2, order: 2 },
  riscv64: { machine: 0xf3, elfClass: 2, order: 1 },
  mips64le: { machine: 0x08, elfClass: 2, order: 1 },
};

export const binfmtMiscDir = '/proc/sys/fs/binfmt_misc';

export type EmulationStatus =
  | { ok: true; handler: string; interpreter: string }
  | { ok: false; reason: string };

/**
 * Whether the kernel runs `architecture`'s ELF binaries through a binfmt_misc handler that works
 * inside a sandbox: enabled, its magic matching that architecture's ELF header, and flag F (the
 * interpreter opened at registration, so it needs not exist inside the stage's root).
 * `dir` is binfmt_misc's mount (a parameter so tests pass a fake one).
 */
export async function emulationStatus(architecture: string, dir = binfmtMiscDir): Promise<EmulationStatus> {
  const elf = elfMachines[architecture];
  if (!elf) return { ok: false, reason: `no known ELF machine for architecture ${architecture}` };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { ok: false, reason: `${dir} is not mounted` };
  }
  const status = await readFile(join(dir, 'status'), 'utf8').catch(() => 'enabled');
  if (status.trim() !== 'enabled') return { ok: false, reason: `binfmt_misc is disabled (${dir}/status)` };
  let withoutF: string | undefined;
  for (const name of names.sort()) {
    if (name === 'status' || name === 'register') continue;
    const entry = parseEntry(await readFile(join(dir, name), 'utf8').catch(() => ''));
    if (!entry?.enabled || !matchesElf(entry, elf)) continue;
    if (!entry.flags.includes('F')) {
      withoutF = name;
      continue;
    }
    return { ok: true, handler: name, interpreter: entry.interpreter };
  }
  return {
    ok: false,
    reason: withoutF
      ? `binfmt_misc handler ${withoutF} lacks flag F, so its interpreter is not found inside the sandbox`
      : `no enabled binfmt_misc handler for ${architecture} binaries`,
  };
}

interface BinfmtEntry {
  enabled: boolean;
  interpreter: string;
  flags: string;
  offset: number;
  magic: Buffer;
  mask: Buffer;
}

function parseEntry(text: string): BinfmtEntry | undefined {
  const lines = text.split('\n');
  const field = (name: string) =>
    lines
      .find((line) => line.startsWith(`${name} `))
      ?.slice(name.length + 1)
      .trim() ?? '';
  const magic = field('magic');
  if (magic === '') return undefined; // an extension (E) handler, not a magic one
  const mask = field('mask');
  return {
    enabled: lines[0]?.trim() === 'enabled',
    interpreter: field('interpreter'),
    flags: field('flags:'),
    offset: Number(field('offset') || '0'),
    magic: Buffer.from(magic, 'hex'),
    mask: mask === '' ? Buffer.alloc(magic.length / 2, 0xff) : Buffer.from(mask, 'hex'),
  };
}

/** Whether the handler's magic (under its mask) accepts an executable ELF header of that machine. */
function matchesElf(entry: BinfmtEntry, elf: { machine: number; elfClass: number; order: number }): boolean {
  if (entry.offset !== 0 || entry.magic.length < 20) return false;
  const header = Buffer.alloc(20);
  header.write('\x7fELF', 0, 'latin1');
  header[4] = elf.elfClass;
  header[5] = elf.order;
  header[6] = 1;
  // e_type ET_EXEC (ET_DYN differs in its low bit, which the handlers mask out) and e_machine.
  if (elf.order === 1) {
    header.writeUInt16LE(2, 16);
    header.writeUInt16LE(elf.machine, 18);
  } else {
    header.writeUInt16BE(2, 16);
    header.writeUInt16BE(elf.machine, 18);
  }
  for (let i = 0; i < entry.magic.length; i++) {
    const mask = entry.mask[i] ?? 0xff;
    if (((header[i] ?? 0) & mask) !== (entry.magic[i]! & mask)) return false;
  }
  return true;
}
