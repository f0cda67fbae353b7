import { access, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKiln, unpackWithUmoci } from '../kilnProcess.ts';
import { writeContext } from './hostileBuild.ts';
import { startHostileEnvironment, stopHostileEnvironment } from './hostileEnvironment.ts';
import type { SentinelTree } from './sentinelTree.ts';

let registry: TestRegistry;
let base: PushedImage;
let work: string;
let sentinel: SentinelTree;

beforeAll(async () => {
  ({ registry, base, work, sentinel } = await startHostileEnvironment('kiln-e2e-hostile-heredoc-'));
});
afterAll(() => stopHostileEnvironment({ registry, work, sentinel }));

async function build(
  name: string,
  dockerfile: string,
  files: Record<string, string> = {},
  links: Record<string, string> = {},
  extra: string[] = [],
) {
  const context = await writeContext(join(work, name), {
    files: { Dockerfile: dockerfile, ...files },
    links,
  });
  const destination = `${registry.host}/hostile/${name}:latest`;
  const result = await runKiln([
    'build',
    '--executor',
    'sandbox',
    '--context',
    context,
    '--build-arg',
    `BASE=${base.reference}`,
    '--destination',
    destination,
    '--insecure-registry',
    registry.host,
    ...extra,
  ]);
  return { result, context, destination };
}

describe('hostile heredoc names and ignore files', () => {
  it('a #! heredoc named like a path out of its directory is refused and writes nothing', async () => {
    const before = await sentinel.fingerprint();
    // The script directory is a sibling of the sentinel under the temp dir: `../<sentinel>/x`
    // would land inside it if the name were used as a path.
    const name = `../${basename(sentinel.dir)}/planted`;
    const { result } = await build(
      'heredoc-name',
      `ARG BASE\nFROM $BASE\nRUN <<${name}\n#!/bin/sh\necho hi\n${name}\n`,
      {},
      {},
      ['--log-format', 'json'],
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain('"code":"RUN_HEREDOC_NAME"');
    await expect(access(join(sentinel.dir, 'planted'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await sentinel.fingerprint()).toBe(before);
  });

  it('a .dockerignore that links out of the context is read inside it, not from the host', async () => {
    // A host file outside the context whose pattern would drop keep.txt if it were read.
    const outside = join(work, 'outside-patterns');
    await writeFile(outside, 'keep.txt\n');
    const { result, destination } = await build(
      'ignore-link',
      'ARG BASE\nFROM $BASE\nCOPY . /app\n',
      { 'keep.txt': 'kept\n' },
      { '.dockerignore': outside },
    );
    expect(result.code, result.stderr).toBe(0);
    const rootfs = await unpackWithUmoci(`docker://${destination}`, join(work, 'ignore-link-tree'));
    expect(await readFile(join(rootfs, 'app/keep.txt'), 'utf8')).toBe('kept\n');
  });
});
