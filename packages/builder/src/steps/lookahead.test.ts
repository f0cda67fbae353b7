import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../events.ts';
import type { CachedStep, LayerCache } from '../layerCache.ts';
import { createTestBuilder, type TestBuilder } from '../testing/testBuild.ts';

let builder: TestBuilder;
beforeAll(async () => {
  builder = await createTestBuilder();
});
afterAll(async () => {
  await builder.dispose();
});

/**
 * A cache that logs prefetches, gets and answers, and holds every prefetched answer back until a
 * step first asks (`get`): what the stage asked for before it needed anything shows in the log.
 */
function watched(log: string[]): (inner: LayerCache) => LayerCache {
  return (inner) => {
    const held = new Map<string, Promise<CachedStep | undefined>>();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const answer = async (key: string) => {
      const hit = await inner.get(key);
      log.push(`answer ${key}`);
      return hit;
    };
    return {
      prefetch(key) {
        log.push(`prefetch ${key}`);
        held.set(
          key,
          gate.then(() => answer(key)),
        );
      },
      async get(key) {
        log.push(`get ${key}`);
        open();
        const pending = held.get(key);
        held.delete(key);
        return pending ?? answer(key);
      },
      put: (key, step) => inner.put(key, step),
    };
  };
}

const dockerfile = `FROM busybox
ENV E=x
WORKDIR /w
COPY a.txt /w/
RUN cat /w/a.txt > /w/copy
COPY dir/ /w/dir/
RUN ls /w/dir > /w/list && echo ran
CMD ["sh"]
`;
const files = (a: string) => ({ 'a.txt': a, 'dir/one': '1', 'dir/two': '2' });

const keysOf = (events: BuildEvent[], type: 'step-cached' | 'step-done') =>
  events.flatMap((event) => (event.type === type ? [event.cacheKey] : []));

describe('look-ahead of a stage’s cache lookups', () => {
  it('asks for every step of a fully cached stage before the first answer comes back', async () => {
    const shared = { storeDir: join(builder.dir, 'la-store'), cacheDir: join(builder.dir, 'la-steps') };
    const cold = await builder.build('la-cold', dockerfile, files('a'), {}, { shared });
    const log: string[] = [];
    const warm = await builder.build(
      'la-warm',
      dockerfile,
      files('a'),
      {},
      { shared, wrapCache: watched(log) },
    );
    const cached = keysOf(warm.events, 'step-cached');
    // WORKDIR, COPY, RUN, COPY, RUN: all served, nothing ran.
    expect(cached).toHaveLength(5);
    expect(warm.events.some((event) => event.type === 'run-output')).toBe(false);
    const firstAnswer = log.findIndex((entry) => entry.startsWith('answer '));
    for (const key of cached) {
      const asked = log.indexOf(`prefetch ${key}`);
      expect(asked).toBeGreaterThanOrEqual(0);
      expect(asked).toBeLessThan(firstAnswer);
    }
    // Each step still asked for its own key, and took the prefetched answer (one answer per key).
    for (const key of cached) {
      expect(log.filter((entry) => entry === `get ${key}`)).toHaveLength(1);
      expect(log.filter((entry) => entry === `answer ${key}`)).toHaveLength(1);
    }
    expect(warm.config.rootfs.diff_ids).toEqual(cold.config.rootfs.diff_ids);
  });

  it('a miss in the middle runs the later steps with the keys and image of a build without cache', async () => {
    const shared = { storeDir: join(builder.dir, 'lm-store'), cacheDir: join(builder.dir, 'lm-steps') };
    await builder.build('lm-first', dockerfile, files('a'), {}, { shared });
    const log: string[] = [];
    // a.txt changed: WORKDIR hits, the COPY of a.txt misses and so does everything after it.
    const changed = await builder.build(
      'lm-changed',
      dockerfile,
      files('b'),
      {},
      {
        shared,
        wrapCache: watched(log),
      },
    );
    const fresh = await builder.build('lm-fresh', dockerfile, files('b'), {});
    expect(keysOf(changed.events, 'step-cached')).toHaveLength(1);
    expect(changed.events.filter((event) => event.type === 'run-output').map((event) => event.line)).toEqual([
      'ran',
    ]);
    expect(keysOf(changed.events, 'step-done')).toEqual(keysOf(fresh.events, 'step-done'));
    for (const path of ['w/a.txt', 'w/copy', 'w/list']) {
      expect(await readFile(join(changed.tree, path), 'utf8')).toBe(
        await readFile(join(fresh.tree, path), 'utf8'),
      );
    }
    expect(changed.config.config).toEqual(fresh.config.config);
    expect(changed.config.history?.map((entry) => entry.created_by)).toEqual(
      fresh.config.history?.map((entry) => entry.created_by),
    );
    // The keys looked up ahead were the keys the steps then had: every step's get was prefetched.
    const gets = log.filter((entry) => entry.startsWith('get ')).map((entry) => entry.slice(4));
    expect(gets.length).toBeGreaterThan(0);
    for (const key of gets) expect(log).toContain(`prefetch ${key}`);
    // A run step's result was stored under the key a cold build gives it.
    const stored = await builder.build('lm-again', dockerfile, files('b'), {}, { shared });
    expect(keysOf(stored.events, 'step-cached')).toHaveLength(5);
  });

  it('stops at a COPY --chown (its key needs the tree) and the steps after it look up as they come', async () => {
    const shared = { storeDir: join(builder.dir, 'lc-store'), cacheDir: join(builder.dir, 'lc-steps') };
    const text = 'FROM busybox\nRUN echo one\nCOPY --chown=1:1 a.txt /a\nRUN echo two\n';
    await builder.build('lc-cold', text, { 'a.txt': 'a' }, {}, { shared });
    const log: string[] = [];
    const warm = await builder.build(
      'lc-warm',
      text,
      { 'a.txt': 'a' },
      {},
      { shared, wrapCache: watched(log) },
    );
    const cached = keysOf(warm.events, 'step-cached');
    expect(cached).toHaveLength(3);
    expect(log).toContain(`prefetch ${cached[0]}`);
    expect(log.filter((entry) => entry.startsWith('prefetch '))).toHaveLength(1);
  });
});
