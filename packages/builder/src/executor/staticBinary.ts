import { open } from 'node:fs/promises';

/**
 * Whether a file is a statically linked ELF executable (no PT_INTERP program header), i.e. one
 * that can run inside any stage root, whatever libc the image has or lacks.
 */
export async function isStaticExecutable(path: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const header = Buffer.alloc(64);
    await handle.read(header, 0, 64, 0);
    // 64-bit little-endian ELF only: the machines Kiln runs on.
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return false;
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    }
    return true;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}
