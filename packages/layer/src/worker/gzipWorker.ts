import { gzipSync } from 'node:zlib';
import { Piscina } from 'piscina';
import type { GzipResult, GzipTask } from '../gzipMessages.ts';

// Each block becomes one complete gzip member; members concatenate into a valid gzip stream.
export default function compressBlock(task: GzipTask): GzipResult {
  const member = gzipSync(task.data, { level: task.level });
  // Small results may sit in Buffer's shared pool, which must not be transferred away.
  const owned =
    member.byteOffset === 0 && member.buffer.byteLength === member.byteLength
      ? member
      : new Uint8Array(member);
  return Piscina.move(owned) as GzipResult;
}
