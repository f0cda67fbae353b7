import type { Platform } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheKeyInput, stepCacheKey } from '../cacheKey.ts';
import { createTestBuilder, type TestBuilder } from '../testing/testBuild.ts';

const input: CacheKeyInput = {
  parent: 'sha256:1111111111111111111111111111111111111111111111111111111111111111',
  instruction: 'RUN echo hi',
  args: ['A=1'],
  env: ['PATH=/bin'],
  user: 'app',
  workdir: '/w',
  shell: ['/bin/sh', '-c'],
  sourcesHash: 'abc',
  platform: 'linux/amd64',
};

describe('stepCacheKey', () => {
  it('is a sha256 of its inputs, the same for the same inputs', () => {
    expect(stepCacheKey(input)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(stepCacheKey({ ...input, args: [...input.args] })).toBe(stepCacheKey(input));
  });

  it('changes when any one input changes alone', () => {
    const changed: Record<keyof CacheKeyInput, CacheKeyInput> = {
      parent: { ...input, parent: 'sha256:2222222222222222222222222222222222222222222222222222222222222222' },
      instruction: { ...input, instruction: 'RUN echo ho' },
      args: { ...input, args: ['A=2'] },
      env: { ...input, env: ['PATH=/usr/bin'] },
      user: { ...input, user: 'root' },
      workdir: { ...input, workdir: '/x' },
      shell: { ...input, shell: ['/bin/bash', '-c'] },
      sourcesHash: { ...input, sourcesHash: 'abd' },
      platform: { ...input, platform: 'linux/arm64' },
    };
    const keys = Object.values(changed).map(stepCacheKey);
    expect(new Set([...keys, stepCacheKey(input)]).size).toBe(keys.length + 1);
    // Values cannot run into each other: moving text between fields is a different key.
    expect(stepCacheKey({ ...input, args: ['A=1', 'PATH=/bin'], env: [] })).not.toBe(stepCacheKey(input));
  });
});

let builder: TestBuilder;

beforeAll(async () => {
  builder = await createTestBuilder();
});
afterAll(async () => {
  await builder.dispose();
});

const dockerfile = `FROM busybox
ARG V=1
ENV E=x
WORKDIR /w
COPY . /w/
RUN echo "$V" > /w/v
USER nobody
RUN echo done
`;

/** Builds the Dockerfile over a context written in `order`, returning every step's cache key. */
async function keysOf(
  name: string,
  files: [string, string][],
  options: { buildArgs?: Map<string, string>; mtime?: number; platform?: Platform; dockerfile?: string } = {},
): Promise<string[]> {
  const { events } = await builder.build(
    name,
    options.dockerfile ?? dockerfile,
    Object.fromEntries(files),
    {
      ...(options.buildArgs ? { buildArgs: options.buildArgs } : {}),
      ...(options.platform ? { platform: options.platform } : {}),
    },
    options.mtime === undefined ? {} : { mtime: options.mtime },
  );
  return events.flatMap((event) => (event.type === 'step-done' ? [event.cacheKey] : []));
}

const files: [string, string][] = [
  ['.dockerignore', '*.log\n'],
  ['a.txt', 'alpha'],
  ['b.txt', 'bravo'],
  ['sub/c.txt', 'charlie'],
  ['build.log', 'first'],
];

describe('cache keys of a build', { timeout: 120_000 }, () => {
  it('do not depend on the machine, mtimes, the order files were made or ignored files', async () => {
    const first = await keysOf('first', files, { mtime: 1_000_000 });
    expect(first).toHaveLength(7);
    const reordered = [...files]
      .reverse()
      .map(([path, content]): [string, string] => [path, path === 'build.log' ? 'another log' : content]);
    expect(await keysOf('second-machine', reordered, { mtime: 2_000_000 })).toEqual(first);
  });

  it('change from the step whose input changed: a COPY source, a build arg', async () => {
    const first = await keysOf('again', files);
    const changedSource = await keysOf(
      'changed-source',
      files.map(([path, content]): [string, string] => [path, path === 'b.txt' ? 'bravo two' : content]),
    );
    // ARG, ENV and WORKDIR keep their keys; COPY (step 4) and everything after it change.
    expect(changedSource.slice(0, 3)).toEqual(first.slice(0, 3));
    for (let step = 3; step < first.length; step++) expect(changedSource[step]).not.toBe(first[step]);

    const changedArg = await keysOf('changed-arg', files, { buildArgs: new Map([['V', '2']]) });
    expect(changedArg[0]).not.toBe(first[0]);
  });
});

describe('cache keys per platform', { timeout: 120_000 }, () => {
  const arm64: Platform = { os: 'linux', architecture: 'arm64' };
  it('differ between platforms even on a base that resolves to one image for both', async () => {
    const runs = 'FROM busybox\nRUN echo hi > /x\n';
    const amd = await keysOf('amd64', [], {
      dockerfile: runs,
      platform: { os: 'linux', architecture: 'amd64' },
    });
    const arm = await keysOf('arm64', [], { dockerfile: runs, platform: arm64 });
    expect(arm).toHaveLength(1);
    expect(arm[0]).not.toBe(amd[0]);
  });

  it('are shared by a stage pinned to one platform (FROM --platform) whatever the target', async () => {
    const pinned = 'FROM --platform=linux/amd64 busybox\nRUN echo hi > /x\n';
    const amd = await keysOf('pinned-amd64', [], { dockerfile: pinned });
    const arm = await keysOf('pinned-arm64', [], { dockerfile: pinned, platform: arm64 });
    expect(arm).toEqual(amd);
  });
});
