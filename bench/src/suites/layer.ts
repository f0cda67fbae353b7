import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { ensureRootfs } from '@kiln/fixtures/rootfs';
import { BlobStore } from '@kiln/image';
import { changeSetFromTree, createGzipPool, extractLayer, type GzipPool, writeLayer } from '@kiln/layer';
import type { ChangeSet } from '@kiln/snapshot';
import { measureCommand } from '../framework/measureCommand.ts';
import type { BenchCase, Contender, Suite, SuiteContext } from '../framework/suite.ts';

type TreeName = 'quick' | 'small' | 'large';

const fixtureHashes: Record<string, string> = {};

/**
 * The shared generated rootfs trees, copied once (cached) for this suite: other suites change the
 * shared tree while they run, and a layer of a tree that changes underneath is no measurement.
 */
async function prepareTree(ctx: SuiteContext, name: TreeName): Promise<{ root: string; bytes: number }> {
  ctx.note(`preparing the ${name} rootfs fixture in ${ctx.fixturesDir}`);
  const summary = await ensureRootfs(name, ctx.fixturesDir);
  fixtureHashes[`rootfs-${name}`] = summary.id;
  const copy = join(ctx.fixturesDir, `layer-${summary.id}`);
  if (!existsSync(`${copy}.done`)) {
    await rm(copy, { recursive: true, force: true });
    await measureCommand('cp', ['-a', summary.root, copy]);
    writeFileSync(`${copy}.done`, summary.id);
  }
  return { root: copy, bytes: summary.bytes };
}

function requireTool(tool: string): void {
  for (const dir of (process.env.PATH ?? '').split(':')) if (existsSync(join(dir, tool))) return;
  throw new KilnError('BENCH_BASELINE_MISSING', `${tool} is not installed`, {
    hint: `apt-get install ${tool}`,
  });
}

function writeCases(ctx: SuiteContext, name: TreeName, root: string, bytes: number): BenchCase[] {
  const threads = availableParallelism();
  const out = join(ctx.workDir, `${name}.tar.gz`);
  const store = new BlobStore(join(ctx.workDir, `store-${name}`));
  // The change set is writeLayer's input (a build gets it from the snapshot diff): made once, untimed, so
  // the rows measure the layer writer and its threads, not a serial walk in front of it.
  let changeSet: ChangeSet | undefined;
  return [1, 6].map((level): BenchCase => {
    // The case's workers, as a build's: started by the first layer, kept warm across runs.
    let pool: GzipPool | undefined;
    const kiln = (n: number): Contender => ({
      name: `kiln gzip -${level} ×${n}`,
      run: async () => {
        const layer = await writeLayer(changeSet!, root, { store, level, threads: n, pool: pool! });
        return { bytes, extra: { compressedMB: layer.size / 1e6 } };
      },
      before: () => rm(store.root, { recursive: true, force: true }),
    });
    return {
      name: `write-gzip-${level}/${name}`,
      setup: async () => {
        changeSet ??= changeSetFromTree(root);
        pool = createGzipPool({ threads });
      },
      teardown: () => pool!.close(),
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
          against: `kiln gzip -${level} ×1`,
          maxRatio: 1 / 1.7,
          note: `${threads} threads ≥1.7× faster than 1`,
        },
      ],
    };
  });
}

function extractCase(ctx: SuiteContext, name: TreeName, root: string, bytes: number): BenchCase {
  const blob = join(ctx.workDir, `extract-${name}.tar.gz`);
  const target = join(ctx.workDir, `extracted-${name}`);
  const clean = async () => {
    await rm(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
  };
  return {
    name: `extract/${name}`,
    setup: async () => {
      await measureCommand('bash', ['-c', `tar -C "${root}" -cf - . | gzip -1 > "${blob}"`]);
    },
    teardown: () => rm(target, { recursive: true, force: true }),
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

const treeNames: readonly TreeName[] = ['quick', 'small', 'large'];

/** The trees a full layer run measures: `small,large`, or the comma-separated names given. */
export function layerTrees(setting: string | undefined): TreeName[] {
  if (setting === undefined || setting.trim() === '') return ['small', 'large'];
  return setting.split(',').map((raw) => {
    const name = raw.trim();
    if (!(treeNames as readonly string[]).includes(name)) {
      throw new KilnError('BENCH_UNKNOWN_FIXTURE', `unknown layer tree ${name} in KILN_BENCH_LAYER_TREES`, {
        hint: `use a comma-separated list of ${treeNames.join(', ')}`,
      });
    }
    return name as TreeName;
  });
}

export const layerSuite: Suite = {
  name: 'layer',
  description:
    'layer write (gzip -1/-6, 1 and N threads) beside tar | gzip and pigz; extraction beside tar -x',
  async cases(ctx) {
    for (const tool of ['tar', 'gzip', 'pigz']) requireTool(tool);
    const cases: BenchCase[] = [];
    // --quick (CI, 5-minute budget) measures a ~60 MB tree; the full run small and large (~3 GB),
    // or the trees named in KILN_BENCH_LAYER_TREES (large alone takes ~20 minutes here).
    const names: TreeName[] = ctx.quick ? ['quick'] : layerTrees(process.env.KILN_BENCH_LAYER_TREES);
    for (const name of names) {
      const { root, bytes } = await prepareTree(ctx, name);
      cases.push(...writeCases(ctx, name, root, bytes), extractCase(ctx, name, root, bytes));
    }
    return cases;
  },
  fixtureHashes: async () => ({ ...fixtureHashes }),
};
