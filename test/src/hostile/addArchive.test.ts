import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unpackWithUmoci } from '../kilnProcess.ts';
import { type HostileBuildResult, hostileBuild, writeContext } from './hostileBuild.ts';
import { startHostileEnvironment, stopHostileEnvironment } from './hostileEnvironment.ts';
import type { SentinelTree } from './sentinelTree.ts';

/**
 * ADD of local archives through the real CLI in the sandbox executor: archives that write or
 * hard-link through symlinks earlier steps left in the stage (ADD, COPY of a context link,
 * RUN ln -s) stay inside the destination or are refused, and nothing outside the build changes;
 * plus Docker's detection by content (compressed tars unpacked, anything else copied as is).
 */

let registry: TestRegistry;
let base: PushedImage;
let work: string;
let sentinel: SentinelTree;
let before: string;

beforeAll(async () => {
  ({ registry, base, work, sentinel } = await startHostileEnvironment('kiln-e2e-add-archive-'));
});
afterAll(() => stopHostileEnvironment({ registry, work, sentinel }));
beforeEach(async () => {
  before = await sentinel.fingerprint();
});

type Member = [name: string, kind: 'file' | 'dir' | 'symlink' | 'link', extra?: string];

/** Tar bytes made by Python's tarfile (not Kiln's writer), so names and link targets can be hostile. */
function tarOf(members: Member[]): Buffer {
  const script = `
import io, json, sys, tarfile
out = io.BytesIO()
with tarfile.open(fileobj=out, mode='w', format=tarfile.GNU_FORMAT) as tar:
    for name, kind, *extra in json.load(sys.stdin):
        info = tarfile.TarInfo(name); info.mtime = 1700000000; info.mode = 0o644; data = None
        if kind == 'file':
            data = extra[0].encode(); info.size = len(data)
        elif kind == 'dir':
            info.type = tarfile.DIRTYPE; info.mode = 0o755
        elif kind == 'symlink':
            info.type = tarfile.SYMTYPE; info.linkname = extra[0]
        else:
            info.type = tarfile.LNKTYPE; info.linkname = extra[0]
        tar.addfile(info, io.BytesIO(data) if data is not None else None)
sys.stdout.buffer.write(out.getvalue())
`;
  return execFileSync('python3', ['-c', script], {
    input: JSON.stringify(members),
    maxBuffer: 64 * 1024 * 1024,
  });
}

function compress(tool: 'gzip' | 'bzip2' | 'xz', data: Buffer): Buffer {
  return execFileSync(tool, ['-c'], { input: data, maxBuffer: 64 * 1024 * 1024 });
}

interface Built extends HostileBuildResult {
  layout: string;
  cacheDir: string;
}

/** `kiln build` in the sandbox executor into an OCI layout; the context holds `files` (a Buffer, or a symlink). */
async function build(
  name: string,
  dockerfile: string,
  files: Record<string, Buffer | { symlink: string }>,
): Promise<Built> {
  const dir = join(work, name);
  const contextFiles: Record<string, string | Buffer> = { Dockerfile: dockerfile };
  const links: Record<string, string> = {};
  for (const [path, content] of Object.entries(files)) {
    if (Buffer.isBuffer(content)) contextFiles[path] = content;
    else links[path] = content.symlink;
  }
  const contextDir = await writeContext(join(dir, 'context'), { files: contextFiles, links });
  const layout = join(dir, 'layout');
  const cacheDir = join(dir, 'cache');
  const result = await hostileBuild(contextDir, dir, base.reference, registry.host, [
    '--cache-dir',
    cacheDir,
    '--oci-layout-path',
    layout,
  ]);
  return { ...result, layout, cacheDir };
}

/** Every blob Kiln wrote (the OCI layout and its blob store), decompressed where gzip. */
async function blobsOf(built: Built): Promise<Buffer[]> {
  const blobs: Buffer[] = [];
  const visit = async (path: string): Promise<void> => {
    if (!existsSync(path)) return;
    const info = await lstat(path);
    if (info.isDirectory()) {
      for (const name of await readdir(path)) await visit(join(path, name));
    } else if (info.isFile()) {
      const data = await readFile(path);
      blobs.push(data);
      if (data[0] === 0x1f && data[1] === 0x8b) blobs.push(gunzipSync(data));
    }
  };
  await visit(built.layout);
  await visit(built.cacheDir);
  return blobs;
}

/** The attack left the host alone and nothing Kiln wrote carries the host's secret. */
async function expectContained(built: Built) {
  expect(await sentinel.fingerprint()).toBe(before);
  for (const blob of await blobsOf(built)) expect(blob.includes(sentinel.secretText)).toBe(false);
}

async function expectRefused(built: Built, code: string) {
  expect(built.code, built.stderr).not.toBe(0);
  expect(built.errorCode, built.stderr).toBe(code);
  expect(built.stderr).not.toContain('internal error');
  await expectContained(built);
}

async function rootfsOf(built: Built, name: string): Promise<string> {
  expect(built.code, built.stderr).toBe(0);
  return unpackWithUmoci(`oci:${built.layout}`, join(work, name, 'unpacked'));
}

describe('ADD of an archive through symlinks earlier steps left', () => {
  it('links to an absolute host path (left by ADD, a COPY’d context link, RUN ln -s) lead inside the destination', {
    timeout: 240_000,
  }, async () => {
    const through = (prefix: string) =>
      tarOf([
        [`${prefix}/pwned`, 'file', `written through ${prefix}`],
        [`${prefix}/secret.txt`, 'file', 'overwritten'],
        [`${prefix}/nested`, 'dir'],
      ]);
    const built = await build(
      'absolute',
      `ARG BASE
FROM $BASE
ADD link.tar /a/
ADD through-a.tar /a/
COPY links/ /b/
ADD through-b.tar /b/
RUN mkdir -p /c && ln -s ${sentinel.dir} /c/runlink
ADD through-c.tar /c/
`,
      {
        'link.tar': tarOf([['link', 'symlink', sentinel.dir]]),
        'through-a.tar': through('link'),
        'links/ctxlink': { symlink: sentinel.dir },
        'through-b.tar': through('ctxlink'),
        'through-c.tar': through('runlink'),
      },
    );
    const rootfs = await rootfsOf(built, 'absolute');
    await expectContained(built);
    // What the image holds instead: the writes under the destination, the links as they were.
    for (const [dir, link] of [
      ['a', 'link'],
      ['b', 'ctxlink'],
      ['c', 'runlink'],
    ] as const) {
      expect(await readlink(join(rootfs, dir, link))).toBe(sentinel.dir);
      const landed = join(rootfs, dir, sentinel.dir);
      expect(await readFile(join(landed, 'pwned'), 'utf8')).toBe(`written through ${link}`);
      expect(await readFile(join(landed, 'secret.txt'), 'utf8')).toBe('overwritten');
      expect((await lstat(join(landed, 'nested'))).isDirectory()).toBe(true);
    }
  });

  it.each([
    ['left by ADD', 'ADD up.tar /d/\n', { 'up.tar': 'up' }],
    ['a COPY’d context link', 'COPY links/ /d/\n', { 'links/up': 'up' }],
    ['left by RUN ln -s', 'RUN mkdir -p /d && ln -s ../../../../../../../.. /d/up\n', {}],
  ] as const)(
    'a link climbing with .. (%s) is refused',
    async (what, step, extra) => {
      const climb = '../../../../../../../..';
      const files: Record<string, Buffer | { symlink: string }> = {
        'through.tar': tarOf([[`up${sentinel.dir}/pwned`, 'file', 'pwned']]),
      };
      if ('up.tar' in extra) files['up.tar'] = tarOf([['up', 'symlink', climb]]);
      if ('links/up' in extra) files['links/up'] = { symlink: climb };
      const name = `climb-${what.split(' ').pop()}`;
      const built = await build(name, `ARG BASE\nFROM $BASE\n${step}ADD through.tar /d/\n`, files);
      await expectRefused(built, 'ADD_UNSAFE_PATH');
      expect(existsSync(join(sentinel.dir, 'pwned'))).toBe(false);
    },
    120_000,
  );
});

describe('ADD of an archive with a hard link naming a host file', () => {
  it('by absolute path: nothing of that name in the destination, the build fails', {
    timeout: 120_000,
  }, async () => {
    const built = await build('hardlink-absolute', 'ARG BASE\nFROM $BASE\nADD steal.tar /x/\n', {
      'steal.tar': tarOf([['stolen', 'link', join(sentinel.dir, 'secret.txt')]]),
    });
    await expectRefused(built, 'ADD_EXTRACT_FAILED');
  });

  it('by climbing with ..: refused', { timeout: 120_000 }, async () => {
    const built = await build('hardlink-climb', 'ARG BASE\nFROM $BASE\nADD steal.tar /x/\n', {
      'steal.tar': tarOf([['stolen', 'link', `../../../../../../../..${sentinel.dir}/secret.txt`]]),
    });
    await expectRefused(built, 'ADD_UNSAFE_PATH');
  });

  it('through a link an earlier ADD left: resolved inside the destination, finds nothing', {
    timeout: 120_000,
  }, async () => {
    const built = await build(
      'hardlink-through',
      'ARG BASE\nFROM $BASE\nADD link.tar /x/\nADD steal.tar /x/\n',
      {
        'link.tar': tarOf([['link', 'symlink', sentinel.dir]]),
        'steal.tar': tarOf([['stolen', 'link', 'link/secret.txt']]),
      },
    );
    await expectRefused(built, 'ADD_EXTRACT_FAILED');
  });
});

describe('ADD decides by content, as Docker does', () => {
  it('unpacks gzip, bzip2 and xz tars whatever their names; copies anything else as it is', {
    timeout: 240_000,
  }, async () => {
    const payload = (what: string) => tarOf([[`${what}/hello.txt`, 'file', `hello from ${what}\n`]]);
    const notes = compress('gzip', Buffer.from('not an archive\n'.repeat(50)));
    const random = randomBytes(8192);
    const bigTar = compress('gzip', tarOf([['big.txt', 'file', randomBytes(300_000).toString('hex')]]));
    const cutEarly = bigTar.subarray(0, 20);
    const built = await build(
      'conformance',
      `ARG BASE
FROM $BASE
ADD pkg.tgz /gz/
ADD pkg.bz2 /bz/
ADD pkg.data /xz/
ADD notes.txt.gz /copied/
ADD x.tar.gz /copied/
ADD cut.tar.gz /copied/
`,
      {
        'pkg.tgz': compress('gzip', payload('gz')),
        'pkg.bz2': compress('bzip2', payload('bz')),
        'pkg.data': compress('xz', payload('xz')),
        'notes.txt.gz': notes,
        'x.tar.gz': random,
        'cut.tar.gz': cutEarly,
      },
    );
    const rootfs = await rootfsOf(built, 'conformance');
    for (const what of ['gz', 'bz', 'xz']) {
      expect(await readFile(join(rootfs, what, what, 'hello.txt'), 'utf8')).toBe(`hello from ${what}\n`);
    }
    // Not tars: each copied unchanged, under its own name.
    expect(await readFile(join(rootfs, 'copied/notes.txt.gz'))).toEqual(notes);
    expect(await readFile(join(rootfs, 'copied/x.tar.gz'))).toEqual(random);
    expect(await readFile(join(rootfs, 'copied/cut.tar.gz'))).toEqual(cutEarly);
  });

  it('a tar.gz cut short after its first entry began fails the build clearly, as in BuildKit', {
    timeout: 120_000,
  }, async () => {
    const packed = compress('gzip', tarOf([['big.txt', 'file', randomBytes(300_000).toString('hex')]]));
    const built = await build('truncated', 'ARG BASE\nFROM $BASE\nADD cut.tar.gz /t/\n', {
      'cut.tar.gz': packed.subarray(0, packed.length - 2000),
    });
    await expectRefused(built, 'ADD_EXTRACT_FAILED');
    expect(built.errorText).toMatch(/^Dockerfile:3: cannot unpack cut\.tar\.gz: /);
  });
});
