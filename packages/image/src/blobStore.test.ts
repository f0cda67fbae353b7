import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from './blobStore.ts';
import { sha256Digest } from './digest.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-blobstore-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('BlobStore', () => {
  it('stores bytes under blobs/sha256/<hex> and reads them back', async () => {
    const store = new BlobStore(dir);
    const data = new TextEncoder().encode('hello');
    const digest = sha256Digest(data);
    expect(await store.has(digest)).toBe(false);
    const result = await store.write(data);
    expect(result).toEqual({ digest, size: 5 });
    expect(await store.has(digest)).toBe(true);
    expect(await store.size(digest)).toBe(5);
    expect(store.path(digest)).toBe(join(dir, 'blobs', 'sha256', digest.slice(7)));
    expect(await readFile(store.path(digest), 'utf8')).toBe('hello');
    const chunks: Buffer[] = [];
    for await (const chunk of await store.open(digest)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello');
  });

  it('streams a large source without keeping it and hashes it correctly', async () => {
    const store = new BlobStore(dir);
    const chunk = Buffer.alloc(100_000, 7);
    async function* source() {
      for (let i = 0; i < 30; i++) yield chunk;
      yield Buffer.from('tail');
    }
    const expected = sha256Digest(
      Buffer.concat([...Array.from({ length: 30 }, () => chunk), Buffer.from('tail')]),
    );
    const result = await store.write(source());
    expect(result).toEqual({ digest: expected, size: 3_000_004 });
    const fromReadable = await store.write(Readable.from([Buffer.from('a'), Buffer.from('b')]));
    expect(fromReadable.digest).toBe(sha256Digest('ab'));
  });

  it('refuses a blob whose content does not match the expected digest and leaves nothing behind', async () => {
    const store = new BlobStore(dir);
    const wrong = sha256Digest('something else');
    await expect(store.write(Buffer.from('hello'), { expectedDigest: wrong })).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
    expect(await store.has(wrong)).toBe(false);
    expect(await store.has(sha256Digest('hello'))).toBe(false);
    expect(await readdir(join(dir, 'blobs', '.tmp'))).toEqual([]);
    expect(await readdir(join(dir, 'blobs', 'sha256'))).toEqual([]);
  });

  it('offers a streaming writer with commit and abort', async () => {
    const store = new BlobStore(dir);
    const writer = await store.createWriter();
    await writer.write(Buffer.from('hel'));
    await writer.write(Buffer.from('lo'));
    expect(writer.size).toBe(5);
    expect(await writer.commit(sha256Digest('hello'))).toEqual({ digest: sha256Digest('hello'), size: 5 });
    await expect(writer.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'BLOB_WRITER_CLOSED' });

    const aborted = await store.createWriter();
    await aborted.write(Buffer.from('partial'));
    await aborted.abort();
    await aborted.abort();
    expect(await store.has(sha256Digest('partial'))).toBe(false);
    expect(await readdir(join(dir, 'blobs', '.tmp'))).toEqual([]);
  });

  it('lets concurrent writers of the same blob all succeed with one intact file', async () => {
    const store = new BlobStore(dir);
    const data = Buffer.alloc(600_000, 1);
    const results = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const writer = await store.createWriter();
        for (let i = 0; i < data.length; i += 50_000) await writer.write(data.subarray(i, i + 50_000));
        return writer.commit();
      }),
    );
    const digest = sha256Digest(data);
    expect(new Set(results.map((r) => r.digest))).toEqual(new Set([digest]));
    expect((await store.readBytes(digest)).equals(data)).toBe(true);
    expect(await readdir(join(dir, 'blobs', 'sha256'))).toEqual([digest.slice(7)]);
    expect(await readdir(join(dir, 'blobs', '.tmp'))).toEqual([]);
  });

  it('keeps working after its directories were removed under it', async () => {
    const store = new BlobStore(join(dir, 'store'));
    await store.write(Buffer.from('one'));
    await rm(join(dir, 'store'), { recursive: true, force: true });
    expect((await store.write(Buffer.from('two'))).digest).toBe(sha256Digest('two'));
  });

  it('verifies a blob as it streams: a blob changed on disk fails at the end and is dropped', async () => {
    const store = new BlobStore(dir);
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const { digest } = await store.write(data);
    const tampered = Buffer.from(data);
    tampered[tampered.length - 1] = 8;
    await writeFile(store.path(digest), tampered);
    let seen = 0;
    const read = async () => {
      for await (const chunk of await store.open(digest)) seen += (chunk as Buffer).length;
    };
    await expect(read()).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    // The last chunk waits for the verdict, so a consumer never gets the whole corrupt blob.
    expect(seen).toBeLessThan(data.length);
    expect(await store.has(digest)).toBe(false);

    // A store that is the user's (an OCI layout read as a base) reports but keeps the blob.
    const kept = new BlobStore(join(dir, 'layout'), { dropCorrupt: false });
    const again = await kept.write(data);
    await writeFile(kept.path(again.digest), tampered);
    await expect(kept.verify(again.digest)).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    expect(await kept.has(again.digest)).toBe(true);
    // …and a corrupt blob is never linked into another store.
    await expect(new BlobStore(join(dir, 'other')).copyFrom(kept, again.digest)).rejects.toMatchObject({
      code: 'BLOB_CORRUPT',
    });
    expect(await new BlobStore(join(dir, 'other')).has(again.digest)).toBe(false);
  });

  it('reads JSON blobs, verifying their digest', async () => {
    const store = new BlobStore(dir);
    const { digest } = await store.write(Buffer.from('{"a":1}'));
    expect(await store.readJson(digest)).toEqual({ a: 1 });
    await writeFile(store.path(digest), '{"a":2}');
    await expect(store.readJson(digest)).rejects.toMatchObject({ code: 'BLOB_CORRUPT' });
    const missing = sha256Digest('missing');
    await expect(store.readJson(missing)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    await expect(store.open(missing)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    await expect(store.size(missing)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
  });

  it('copies blobs between stores and from files', async () => {
    const a = new BlobStore(join(dir, 'a'));
    const b = new BlobStore(join(dir, 'b'));
    const { digest } = await a.write(Buffer.from('shared'));
    expect(await b.copyFrom(a, digest)).toEqual({ digest, size: 6 });
    expect(await readFile(b.path(digest), 'utf8')).toBe('shared');
    await writeFile(join(dir, 'f'), 'from a file');
    expect((await b.writeFile(join(dir, 'f'))).digest).toBe(sha256Digest('from a file'));
    await expect(b.copyFrom(a, sha256Digest('nope'))).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
  });
});
