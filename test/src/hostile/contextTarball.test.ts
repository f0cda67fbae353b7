import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { hostileBuild } from './hostileBuild.ts';
import { useHostileEnvironment } from './hostileEnvironment.ts';

/**
 * A tarball context (`tar://`, and so https/s3/gs, which unpack the same way) is hostile input: it is
 * unpacked by Kiln's confined extractor, so names that climb out are refused, and absolute names
 * and links that point out land inside the context. The host tree is unchanged either way.
 */

const env = useHostileEnvironment('kiln-hostile-context-tar-');
let before: string;

beforeEach(async () => {
  before = await env.sentinel.fingerprint();
});

type Member = [name: string, kind: 'file' | 'symlink' | 'link', extra: string];

/** A gzipped tar written by Python's tarfile (not Kiln's writer), so names and links can be hostile. */
function tarGzOf(members: Member[]): Buffer {
  const script = `
import io, json, sys, tarfile
out = io.BytesIO()
with tarfile.open(fileobj=out, mode='w', format=tarfile.GNU_FORMAT) as tar:
    for name, kind, extra in json.load(sys.stdin):
        info = tarfile.TarInfo(name); info.mode = 0o644; data = None
        if kind == 'file':
            data = extra.encode(); info.size = len(data)
        else:
            info.type = tarfile.SYMTYPE if kind == 'symlink' else tarfile.LNKTYPE; info.linkname = extra
        tar.addfile(info, io.BytesIO(data) if data is not None else None)
sys.stdout.buffer.write(out.getvalue())
`;
  return gzipSync(execFileSync('python3', ['-c', script], { input: JSON.stringify(members) }));
}

const dockerfile: Member = ['Dockerfile', 'file', 'ARG BASE\nFROM $BASE\nCOPY . /ctx/\n'];

async function buildTarball(name: string, members: Member[]) {
  const file = join(env.work, `${name}.tar.gz`);
  await writeFile(file, tarGzOf([dockerfile, ...members]));
  const result = await hostileBuild(
    `tar://${file}`,
    join(env.work, name),
    env.base.reference,
    env.registry.host,
  );
  const output = `${result.stdout}\n${result.stderr}`;
  expect(output).not.toContain(env.sentinel.secretText);
  expect(result.archive.includes(env.sentinel.secretText)).toBe(false);
  expect(await env.sentinel.fingerprint()).toBe(before);
  return { ...result, output };
}

describe('hostile tarball contexts', () => {
  it('an entry climbing out with .. is refused', { timeout: 60_000 }, async () => {
    const result = await buildTarball('climb', [
      [`${'../'.repeat(12)}${env.sentinel.dir.slice(1)}/planted`, 'file', 'x'],
    ]);
    expect(result.code, result.output).not.toBe(0);
    expect(result.errorCode).toBe('LAYER_UNSAFE_PATH');
  });

  it('absolute names and files written through a link to the host land inside the context', {
    timeout: 60_000,
  }, async () => {
    const result = await buildTarball('confined', [
      [`${env.sentinel.dir}/planted-absolute`, 'file', 'absolute'],
      ['out', 'symlink', env.sentinel.dir],
      ['out/planted-through-link', 'file', 'through link'],
    ]);
    expect(result.code, result.output).toBe(0);
    const archive = result.archive.toString('latin1');
    expect(archive).toContain(`ctx${env.sentinel.dir}/planted-absolute`);
    expect(archive).toContain(`ctx${env.sentinel.dir}/planted-through-link`);
  });

  it('a hard link to a host file is refused or finds nothing of it', { timeout: 60_000 }, async () => {
    const result = await buildTarball('hardlink', [['stolen', 'link', join(env.sentinel.dir, 'secret.txt')]]);
    expect(result.code, result.output).not.toBe(0);
  });
});
