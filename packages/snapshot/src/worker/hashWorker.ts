import { move } from 'piscina';
import type { HashTask } from '../hashMessages.ts';
import { hashFileBatch } from './hashFileBatch.ts';

/** The piscina entry: one batch of paths in, one transferred result buffer out. */
export default async function hashWorker(task: HashTask): Promise<ArrayBuffer> {
  const { buffer } = await hashFileBatch(task.paths);
  return move(buffer) as ArrayBuffer;
}
