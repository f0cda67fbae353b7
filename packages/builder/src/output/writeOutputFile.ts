import { randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { chmod, type FileHandle, mkdtemp, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { isKilnError, KilnError } from '@kiln/errors';
import { resolveOutputTarget } from './outputTarget.ts';

export interface WriteOutputOptions {
  signal?: AbortSignal;
  /** Where a file bound for a device or fifo is staged; the system temp dir when absent. */
  scratchDir?: string;
}

/**
 * Writes the output file `path` (named by `flag` in errors) through `produce`, which writes the
 * whole content to the file it is given. A regular file (or nothing) at `path` is replaced
 * atomically; a device, fifo or symlink is opened and written through (see `OutputTarget`).
 */
export async function writeOutputFile(
  flag: string,
  path: string,
  produce: (file: string) => Promise<void>,
  options: WriteOutputOptions = {},
): Promise<void> {
  const target = await resolveOutputTarget(flag, path);
  try {
    if (target.kind === 'replace') {
      const temp = join(
        dirname(target.path),
        `.${basename(target.path)}.kiln-${randomBytes(6).toString('hex')}`,
      );
      try {
        await produce(temp);
        options.signal?.throwIfAborted();
        // A file replaced keeps its mode, as one rewritten by a shell's `>` would.
        const previous = await stat(target.path).catch(() => undefined);
        if (previous !== undefined) await chmod(temp, previous.mode & 0o7777);
        await rename(temp, target.path);
      } catch (error) {
        await rm(temp, { recursive: true, force: true });
        throw error;
      }
      return;
    }
    // Staged first, so a reader of a fifo or a terminal sees either the whole output or nothing of
    // a build that failed half way through writing it.
    const scratch = await mkdtemp(join(options.scratchDir ?? tmpdir(), 'kiln-output-'));
    try {
      const staged = join(scratch, 'output');
      await produce(staged);
      options.signal?.throwIfAborted();
      // No O_CREAT: what was checked to be a device, fifo or link must still be one.
      const handle = await open(target.path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOCTTY);
      try {
        for await (const chunk of createReadStream(staged, { highWaterMark: 1 << 20 })) {
          options.signal?.throwIfAborted();
          await writeAll(handle, chunk as Buffer);
        }
      } finally {
        await handle.close().catch(() => undefined);
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  } catch (error) {
    if (isKilnError(error) || options.signal?.aborted) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new KilnError('OUTPUT_WRITE_FAILED', `${flag} ${path}: cannot write (${code ?? String(error)})`, {
      cause: error,
    });
  }
}

/** A small text output (a digest file, the trace) written as `writeOutputFile` writes any file. */
export function writeOutputText(
  flag: string,
  path: string,
  text: string,
  options: WriteOutputOptions = {},
): Promise<void> {
  return writeOutputFile(flag, path, (file) => writeFile(file, text, { flag: 'wx' }), options);
}

/** A pipe or terminal may take part of a chunk per write. */
async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
