import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { BlobStore } from '@kiln/image';
import { changeSetFromTree, closeLayerPool, extractLayer, writeLayer } from '@kiln/layer';
import { measureCommand } from '../framework/measureCommand.ts';
import type { BenchCase, Contender, Suite, SuiteContext } from '../framework/suite.ts';

interface TreeSpec {
  name: 'small' | 'large';
  files: number;
  bytes: number;
}

const trees: TreeSpec[] = [
  { name: 'small', files: 1_500, bytes: 12_000_000 },
  { name: 'large', files: 8_000, bytes: 120_000_000 },
];

const fixtureHashes: Record<string, string> = {};

/**
 * A deterministic rootfs-like tree: nested dirs, ~70% text-like files (compressible, like scripts and
 * configs), ~30% incompressible ones (like binaries and already-compressed data), some symlinks.
 * Stands in until `@kiln/fixtures/rootfs` exists; cached in the fixtures dir.
 */
function prepareTree(ctx: SuiteContext, spec: TreeSpec): { root: string; bytes: number } {
  const root = join(ctx.fixturesDir, `layer-tree-${spec.name}`);
  const marker = join(ctx.fixturesDir, `layer-tree-${spec.name}.done`);
  if (existsSync(marker)) {
    const saved = JSON.parse(readFileSync(marker, 'utf8')) as { bytes: number; hash: string };
    fixtureHashes[`tree-${spec.name}`] = saved.hash;
    return { root, bytes: saved.bytes };
  }
  ctx.note(`generating the ${spec.name} tree (${spec.files} files, ${spec.bytes / 1e6} MB) in ${root}`);
  const words = 'usr lib bin etc config main return function static const import data value kiln layer image'
    .split(' ')
    .concat(Array.from({ length: 200 }, (_, i) => `sym${(i * 7919) % 10007}`));
  let seed = 0x9e3779b9;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const textParts: string[] = [];
  for (let n = 0; n < 1_000_000; ) {
    const w = `${words[Math.floor(next() * words.length)]}${next() < 0.12 ? '\n' : ' '}`;
    textParts.push(w);
    n += w.length;
  }
  const text = Buffer.from(textParts.join(''));
  const cipher = createCipheriv(
    'aes-256-ctr',
    createHash('sha256').update(spec.name).digest(),
    Buffer.alloc(16),
  );
  const hash = createHash('sha256');
  const average = spec.bytes / spec.files;
  let total = 0;
  for (let i = 0; i < spec.files; i++) {
    const dir = join(root, `d${i % 23}`, `s${(i * 31) % 17}`);
    mkdirSync(dir, { recursive: true });
    const size = Math.floor(average * 4 * next() * next());
    let content: Buffer;
    if (i % 10 < 3) {
      content = cipher.update(Buffer.alloc(size));
    } else {
      const start = Math.floor(next() * (text.length - 1));
      content = Buffer.alloc(size);
      for (let k = 0; k < size; ) k += text.copy(content, k, k === 0 ? start : 0);
    }
    writeFileSync(join(dir, `f${i}`), content);
    hash.update(`${dir}/f${i}\0`).update(content);
    total += size;
    if (i % 40 === 0) symlinkSync(`f${i}`, join(dir, `l${i}`));
  }
  const saved = { bytes: total, hash: `sha256:${hash.digest('hex')}` };
  writeFileSync(marker, JSON.stringify(saved));
  fixtureHashes[`tree-${spec.name}`] = saved.hash;
  return { root, bytes: total };
}

function requireTool(tool: string): void {
  for (const dir of (process.env.PATH ?? '').split(':')) if (existsSync(join(dir, tool))) return;
  throw new KilnError('BENCH_BASELINE_MISSING', `${tool} is not installed`, {
    hint: `apt-get install ${tool}`,
  });
}

function writeCases(ctx: SuiteContext, spec: TreeSpec, root: string, bytes: number): BenchCase[] {
  const threads = availableParallelism();
  const out = join(ctx.workDir, `${spec.name}.tar.gz`);
  const store = new BlobStore(join(ctx.workDir, `store-${spec.name}`));
  return [1, 6].map((level): BenchCase => {
    const kiln = (n: number): Contender => ({
      name: `kiln gzip -${level} ×${n}`,
      run: async () => {
        const layer = await writeLayer(changeSetFromTree(root), root, { store, level, threads: n });
        return { bytes, extra: { compressedMB: layer.size / 1e6 } };
      },
      before: () => rm(store.root, { recursive: true, force: true }),
    });
    return {
      name: `write-gzip-${level}/${spec.name}`,
      baseline: {
        name: `tar | gzip -${level}`,
        run: async () => ({
          ...(await measureCommand('bash', ['-c', `tar -C "${root}" -cf - . | gzip -${level} > "${out}"`])),
          bytes,
        }),
      },
      contenders: [
        kiln(1),
        kiln(threads),
        {
          name: `tar | pigz -${level}`,
          run: async () => ({
            ...(await measureCommand('bash', ['-c', `tar -C "${root}" -cf - . | pigz -${level} > "${out}"`])),
            bytes,
          }),
        },
      ],
      targets: [
        {
          contender: `kiln gzip -${level} ×1`,
          maxRatio: 1.3,
          note: 'single thread within 1.3× of tar | gzip',
        },
        {
          contender: `kiln gzip -${level} ×${threads}`,
          maxRatio: 1.3 / 1.7,
          note: `${threads} threads ≥1.7× faster than 1 (compare with the ×1 row)`,
        },
      ],
    };
  });
}

function extractCase(ctx: SuiteContext, spec: TreeSpec, root: string, bytes: number): BenchCase {
  const blob = join(ctx.workDir, `extract-${spec.name}.tar.gz`);
  const target = join(ctx.workDir, `extracted-${spec.name}`);
  const clean = async () => {
    await rm(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
  };
  return {
    name: `extract/${spec.name}`,
    setup: async () => {
      await measureCommand('bash', ['-c', `tar -C "${root}" -cf - . | gzip -1 > "${blob}"`]);
    },
    teardown: async () => {
      await rm(target, { recursive: true, force: true });
      await closeLayerPool();
    },
    baseline: {
      name: 'tar -xzf',
      before: clean,
      run: async () => ({ ...(await measureCommand('tar', ['-xzf', blob, '-C', target])), bytes }),
    },
    contenders: [
      {
        name: 'kiln extractLayer',
        before: clean,
        run: async () => {
          const result = await extractLayer(blob, target);
          return { bytes, extra: { entries: result.entries } };
        },
      },
    ],
    targets: [{ contender: 'kiln extractLayer', maxRatio: 1.5, note: 'within 1.5× of tar -x' }],
  };
}

export const layerSuite: Suite = {
  name: 'layer',
  description:
    'layer write (gzip -1/-6, 1 and N threads) beside tar | gzip and pigz; extraction beside tar -x',
  async cases(ctx) {
    for (const tool of ['tar', 'gzip', 'pigz']) requireTool(tool);
    const cases: BenchCase[] = [];
    for (const spec of ctx.quick ? trees.filter((t) => t.name === 'small') : trees) {
      const { root, bytes } = prepareTree(ctx, spec);
      cases.push(...writeCases(ctx, spec, root, bytes), extractCase(ctx, spec, root, bytes));
    }
    return cases;
  },
  fixtureHashes: async () => ({ ...fixtureHashes }),
};
