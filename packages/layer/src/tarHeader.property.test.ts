import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentPadding, encodeTarHeader, type TarHeader } from './tarHeader.ts';
import { TarReader } from './tarReader.ts';

const component = fc
  .string({
    unit: fc.constantFrom('a', 'b', 'é', '😀', '-', '_', '.', 'Z', '0'),
    minLength: 1,
    maxLength: 60,
  })
  .filter((s) => s !== '.' && s !== '..');

const header: fc.Arbitrary<TarHeader> = fc.record({
  name: fc.array(component, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('/')),
  type: fc.constantFrom('file', 'dir', 'symlink', 'hardlink', 'char', 'fifo'),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  gid: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  size: fc.integer({ min: 0, max: 2000 }),
  mtime: fc.integer({ min: 0, max: 2 ** 33 }),
  linkname: fc.array(component, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/')),
  devmajor: fc.integer({ min: 0, max: 4095 }),
  devminor: fc.integer({ min: 0, max: 2 ** 20 - 1 }),
  xattrs: fc.option(
    fc.dictionary(fc.constantFrom('security.capability', 'user.a'), fc.uint8Array({ maxLength: 40 })),
    {
      nil: undefined,
    },
  ),
});

async function* chunks(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('tar header encoding', () => {
  it('reads back every field it wrote, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(header, fc.integer({ min: 1, max: 700 }), async (h, chunkSize) => {
        const size = h.type === 'file' ? h.size : 0;
        const content = Buffer.alloc(size, 0x5a);
        const archive = Buffer.concat([
          encodeTarHeader({ ...h, size }),
          content,
          Buffer.alloc(contentPadding(size)),
          Buffer.alloc(1024),
        ]);
        const reader = new TarReader(chunks(archive, chunkSize));
        const read = await reader.next();
        expect(read).not.toBeNull();
        expect(read!.name).toBe(h.name);
        expect(read!.type).toBe(h.type);
        expect([read!.mode, read!.uid, read!.gid, read!.mtime]).toEqual([h.mode, h.uid, h.gid, h.mtime]);
        if (h.type === 'symlink' || h.type === 'hardlink') expect(read!.linkname).toBe(h.linkname);
        if (h.type === 'char') expect([read!.devmajor, read!.devminor]).toEqual([h.devmajor, h.devminor]);
        const got: Buffer[] = [];
        await reader.readContent((c) => got.push(Buffer.from(c)));
        expect(Buffer.concat(got).equals(content)).toBe(true);
        const xattrs = h.xattrs && Object.keys(h.xattrs).length > 0 ? h.xattrs : undefined;
        expect(
          read!.xattrs === undefined
            ? undefined
            : Object.fromEntries(Object.entries(read!.xattrs).map(([k, v]) => [k, new Uint8Array(v)])),
        ).toEqual(xattrs);
        expect(await reader.next()).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});
