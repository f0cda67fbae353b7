import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOutputDirectory, resolveOutputTarget } from './outputTarget.ts';

let dir: string;
let socketServer: Server;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-output-target-'));
  writeFileSync(join(dir, 'file'), 'x');
  mkdirSync(join(dir, 'sub'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  symlinkSync(join(dir, 'file'), join(dir, 'to-file'));
  symlinkSync(join(dir, 'sub'), join(dir, 'to-dir'));
  symlinkSync(join(dir, 'absent'), join(dir, 'dangling'));
  socketServer = createServer();
  await new Promise<void>((resolve) => socketServer.listen(join(dir, 'socket'), resolve));
  symlinkSync(join(dir, 'socket'), join(dir, 'to-socket'));
});
afterAll(async () => {
  await new Promise((resolve) => socketServer.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('resolveOutputTarget', () => {
  it('replaces a regular file or nothing in an existing directory', async () => {
    expect(await resolveOutputTarget('--x', join(dir, 'file'))).toEqual({
      kind: 'replace',
      path: join(dir, 'file'),
    });
    expect(await resolveOutputTarget('--x', join(dir, 'new'))).toEqual({
      kind: 'replace',
      path: join(dir, 'new'),
    });
  });

  it('writes through a fifo, a character device and a symlink to a file', async () => {
    for (const path of [join(dir, 'fifo'), '/dev/null', join(dir, 'to-file')])
      expect(await resolveOutputTarget('--x', path)).toEqual({ kind: 'through', path });
  });

  for (const [name, path] of [
    ['a directory', 'sub'],
    ['a path ending in /', 'new/'],
    ['a symlink to a directory', 'to-dir'],
    ['a dangling symlink', 'dangling'],
    ['a socket', 'socket'],
    ['a symlink to a socket', 'to-socket'],
    ['a missing directory', 'missing/file'],
    ['a file as a directory', 'file/inner'],
  ] as const) {
    it(`refuses ${name}: OUTPUT_PATH_INVALID, exit 2`, async () => {
      await expect(resolveOutputTarget('--tar-path', join(dir, path))).rejects.toMatchObject({
        code: 'OUTPUT_PATH_INVALID',
        exitCode: 2,
        message: expect.stringMatching(/^--tar-path \/\S+: /),
      });
    });
  }
});

describe('checkOutputDirectory', () => {
  it('takes a directory, a symlink to one, or a missing one (parents made later, as Kaniko)', async () => {
    for (const path of ['sub', 'to-dir', 'new-layout', 'missing/layout'])
      await checkOutputDirectory('--x', join(dir, path));
  });

  it('refuses a file, or a path under one', async () => {
    for (const path of ['file', 'file/layout', 'file/a/layout'])
      await expect(checkOutputDirectory('--x', join(dir, path))).rejects.toMatchObject({ exitCode: 2 });
  });
});
