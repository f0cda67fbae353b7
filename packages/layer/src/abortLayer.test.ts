import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '@kiln/image';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeSetFromTree } from './changeSetFromTree.ts';
import { extractLayer } from './extractLayer.ts';
import { writeLayer } from './writeLayer.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-abort-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const interrupted = () => new Error('interrupted');

describe('an abort signal', () => {
  it('stops writeLayer at the next block and leaves no blob', async () => {
    const root = join(dir, 'root');
    const store = new BlobStore(join(dir, 'store'));
    mkdirSync(root);
    // 8 MiB of content: several blocks, so an abort after the first is seen before the end.
    writeFileSync(join(root, 'big'), Buffer.alloc(8 * 1024 * 1024, 1));
    const controller = new AbortController();
    const written = writeLayer(changeSetFromTree(root), root, {
      store,
      compression: 'none',
      signal: controller.signal,
    });
    // Aborted while the first block is being filled: the write stops at its first flush.
    controller.abort(interrupted());
    await expect(written).rejects.toThrow('interrupted');
    expect(
      readdirSync(join(dir, 'store')).flatMap((sub) => readdirSync(join(dir, 'store', sub))),
    ).not.toContainEqual(expect.stringMatching(/^[0-9a-f]{64}$/));
  });

  it('stops extractLayer between chunks of one large entry', async () => {
    const root = join(dir, 'root');
    const controller = new AbortController();
    let chunks = 0;
    // A tar of one 64 MiB file, streamed in 1 MiB chunks; the abort comes after the second.
    async function* layer(): AsyncGenerator<Uint8Array> {
      const header = Buffer.alloc(512);
      header.write('big', 0);
      header.write('0000644\0', 100);
      header.write('0000000\0', 108);
      header.write('0000000\0', 116);
      header.write(`${(64 * 1024 * 1024).toString(8).padStart(11, '0')}\0`, 124);
      header.write('00000000000\0', 136);
      header.write('        ', 148);
      header.write('0', 156);
      header.write('ustar\u000000', 257);
      let sum = 0;
      for (const byte of header) sum += byte;
      header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
      yield header;
      for (let i = 0; i < 64; i++) {
        chunks++;
        if (chunks === 2) controller.abort(interrupted());
        yield Buffer.alloc(1024 * 1024);
      }
    }
    await expect(
      extractLayer(layer(), root, { compression: 'none', signal: controller.signal }),
    ).rejects.toThrow('interrupted');
    expect(chunks).toBeLessThan(5);
  });
});
