import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddInstruction } from '@kiln/dockerfile';
import { parseDockerfile } from '@kiln/dockerfile';
import { changeSetFromTree, type LayerEvent } from '@kiln/layer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StageState } from '../stage/stageState.ts';
import { copyInstruction } from './copyInstruction.ts';

let dir: string;
let root: string;
let context: string;
let outside: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-copy-add-'));
  root = join(dir, 'root');
  context = join(dir, 'context');
  outside = join(dir, 'outside');
  for (const path of [root, context, outside]) mkdirSync(path);
  writeFileSync(join(outside, 'secret.txt'), 'host secret\n', { mode: 0o600 });
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function stage(): StageState {
  return {
    name: 'test',
    index: 0,
    config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} },
    history: [],
    layers: [],
    args: new Map(),
    cacheKey: '',
    root,
  } as StageState;
}

function add(line: string): AddInstruction {
  return parseDockerfile(`FROM scratch\n${line}\n`).instructions[1] as AddInstruction;
}

/** A tar of `entries` (name → content) made by Python's tarfile, so member names can be anything. */
function tarOf(file: string, entries: Record<string, string>) {
  const script = `
import io, json, sys, tarfile
with tarfile.open(sys.argv[1], 'w') as tar:
    for name, content in json.loads(sys.argv[2]).items():
        info = tarfile.TarInfo(name); data = content.encode(); info.size = len(data); info.uid = 1000
        tar.addfile(info, io.BytesIO(data))
`;
  execFileSync('python3', ['-c', script, file, JSON.stringify(entries)]);
}

function run(line: string, scratch = join(dir, 'scratch')) {
  return copyInstruction({
    state: stage(),
    instruction: add(line),
    source: { root: context, kind: 'context' },
    escape: '\\',
    where: 'Dockerfile:2',
    scratchDir: scratch,
  });
}

describe('ADD of an archive', () => {
  it('reports the written paths as resolved in-image paths, so the layer never reads through a link', async () => {
    // An image whose /dst is a link to /real, and what `RUN ln -s <host dir> /dst/link` leaves there.
    mkdirSync(join(root, 'real'));
    symlinkSync('/real', join(root, 'dst'));
    symlinkSync(outside, join(root, 'real/link'));
    tarOf(join(context, 'a.tar'), { 'link/secret.txt': 'from the archive' });
    const result = await run('ADD a.tar /dst/');
    expect(result.touched).toEqual([`/real${outside}/secret.txt`]);
    // What the layer recorder does with them: every entry is the archive's, none the host's.
    const changes = changeSetFromTree(
      root,
      result.touched.map((path) => path.slice(1)),
    ).changes;
    expect(changes.map((change) => change.path)).toEqual([`real${outside}/secret.txt`]);
    expect(readFileSync(join(root, 'real', outside, 'secret.txt'), 'utf8')).toBe('from the archive');
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('host secret\n');
  });

  it('keeps the archive’s owners, and --chown replaces them', async () => {
    tarOf(join(context, 'a.tar'), { f: 'x' });
    await run('ADD a.tar /kept/');
    expect(lstatSync(join(root, 'kept/f')).uid).toBe(1000);
    await run('ADD --chown=5:6 a.tar /chowned/');
    expect(lstatSync(join(root, 'chowned/f'))).toMatchObject({ uid: 5, gid: 6 });
  });

  it('--chmod does not apply to the entries of an archive, as in BuildKit', async () => {
    tarOf(join(context, 'a.tar'), { f: 'x' });
    await run('ADD --chmod=700 a.tar /m/');
    expect(lstatSync(join(root, 'm/f')).mode & 0o7777).toBe(0o644);
  });

  it('hands on what the extractor reports: the xattrs it could not set', async () => {
    // A PAX xattr record, as archives of files with capabilities or labels carry.
    const script = `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tar:
    info = tarfile.TarInfo('ping'); info.size = 3; info.pax_headers = {'SCHILY.xattr.user.kiln': 'v'}
    tar.addfile(info, io.BytesIO(b'elf'))
`;
    execFileSync('python3', ['-c', script, join(context, 'x.tar')]);
    const previous = process.env.KILN_XATTR_HELPER;
    process.env.KILN_XATTR_HELPER = join(dir, 'no-such-helper');
    const events: LayerEvent[] = [];
    try {
      await copyInstruction({
        state: stage(),
        instruction: add('ADD x.tar /x/'),
        source: { root: context, kind: 'context' },
        escape: '\\',
        where: 'Dockerfile:2',
        scratchDir: join(dir, 'scratch'),
        onLayerEvent: (event) => events.push(event),
      });
    } finally {
      if (previous === undefined) delete process.env.KILN_XATTR_HELPER;
      else process.env.KILN_XATTR_HELPER = previous;
    }
    expect(readFileSync(join(root, 'x/ping'), 'utf8')).toBe('elf');
    expect(events).toEqual([
      { type: 'extract-xattr-skipped', path: 'ping', names: ['user.kiln'], reason: expect.any(String) },
    ]);
  });

  it('a download is unpacked only with --unpack=true', async () => {
    tarOf(join(dir, 'served.tar'), { inside: 'unpacked' });
    const body = readFileSync(join(dir, 'served.tar'));
    const server = createServer((_request, response) => response.end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pkg.tar`;
    try {
      await run(`ADD ${url} /plain/`);
      expect(lstatSync(join(root, 'plain/pkg.tar')).isFile()).toBe(true);
      await run(`ADD --unpack=true ${url} /unpacked/`);
      expect(readFileSync(join(root, 'unpacked/inside'), 'utf8')).toBe('unpacked');
    } finally {
      server.close();
    }
  });
});
