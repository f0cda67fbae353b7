import { gzipSync } from 'node:zlib';
import type { GzipResult, GzipTask } from '../gzipMessages.ts';

// Each block becomes one complete gzip member; members concatenate into a valid gzip stream.
// The member is returned as is (cloned, ~1 MiB): Piscina.move would need the same piscina instance
// as the worker wrapper, which a bundled CLI does not have.
export default function compressBlock(task: GzipTask): GzipResult {
  return gzipSync(task.data, { level: task.level });
}
