import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractArchive } from './archive.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-archive-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('extractArchive', () => {
  it('unpacks with tar and lists the members', async () => {
    await mkdir(join(dir, 'src/a'), { recursive: true });
    await writeFile(join(dir, 'src/a/file'), 'content');
    execFileSync('tar', ['-czf', join(dir, 'x.tar.gz'), '-C', join(dir, 'src'), '.']);
    await mkdir(join(dir, 'out'));
    const members = await extractArchive(join(dir, 'x.tar.gz'), join(dir, 'out'), 'Dockerfile:3');
    expect(members.sort()).toEqual(['a', 'a/file']);
    expect(await readFile(join(dir, 'out/a/file'), 'utf8')).toBe('content');
  });

  it('fails ADD_EXTRACT_FAILED naming the instruction and what tar said', async () => {
    await writeFile(join(dir, 'broken.tar'), 'not a tar archive at all');
    const error = await extractArchive(join(dir, 'broken.tar'), dir, 'Dockerfile:3').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ADD_EXTRACT_FAILED' });
    expect((error as Error).message).toMatch(/^Dockerfile:3: cannot unpack the archive: .*tar: /);
  });
});
