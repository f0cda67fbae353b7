import { createHash } from 'node:crypto';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { bundleCli } from '@kiln/cli/bundle';
import { KilnError } from '@kiln/errors';
import { ensureDebianRootfs } from '@kiln/fixtures/images';
import { ensureRootfs, isRootfsPreset } from '@kiln/fixtures/rootfs';
import {
  createHashPool,
  diffSnapshots,
  type HashPool,
  type Snapshot,
  type SnapshotStrategyName,
  takeSnapshot,
} from '@kiln/snapshot';
import { measureCommand } from '../framework/measureCommand.ts';
import type { BenchCase, Contender, Sample, Suite, SuiteContext } from '../framework/suite.ts';

/**
 * The snapshot suite: on one fixture, the floors (`find -printf` for every lstat, `tar | cat` for every
 * byte), a Kaniko-style baseline (one thread, walk + sha256 of every file) and Kiln's strategies at 1 and
 * N threads, for a first snapshot and three rescans, and an unchanged rescan as a whole `kiln snapshot`
 * process against `find`. The fixture is `$KILN_BENCH_SNAPSHOT_FIXTURE`: small (default), large, huge
 * (generated, cached in the fixtures dir), debian (debootstrap minbase) or an absolute path to a directory
 * of one's own (e.g. a few copies of /usr), used as it is and never written to.
 */
const fixtureHashes: Record<string, string> = {};

async function prepareFixture(ctx: SuiteContext): Promise<{ name: string; root: string; ownTree?: true }> {
  const name = ctx.quick ? 'quick' : (process.env.KILN_BENCH_SNAPSHOT_FIXTURE ?? 'small');
  if (isAbsolute(name)) {
    if (!statSync(name, { throwIfNoEntry: false })?.isDirectory()) {
      throw new KilnError('BENCH_UNKNOWN_FIXTURE', `${name} is not a directory`, {
        hint: 'KILN_BENCH_SNAPSHOT_FIXTURE takes a preset name or an absolute path to a directory',
      });
    }
    fixtureHashes.directory = name;
    return { name: 'dir', root: name, ownTree: true };
  }
  if (name === 'debian') {
    const root = await ensureDebianRootfs();
    fixtureHashes.debian = 'debootstrap-bookworm-minbase';
    return { name, root };
  }
  if (!isRootfsPreset(name)) {
    throw new KilnError('BENCH_UNKNOWN_FIXTURE', `unknown snapshot fixture ${name}`, {
      hint: 'set KILN_BENCH_SNAPSHOT_FIXTURE to small, large, huge or debian',
    });
  }
  ctx.note(`preparing the ${name} rootfs fixture (generated once, cached in ${ctx.fixturesDir})`);
  const summary = await ensureRootfs(name, ctx.fixturesDir);
  fixtureHashes[`rootfs-${name}`] = summary.id;
  return { name, root: summary.root };
}

/** What Kaniko does per snapshot, in Node: one thread, every file read and sha256'd. */
function kanikoStyleSnapshot(root: string): Sample {
  const chunk = Buffer.allocUnsafe(1 << 20);
  let files = 0;
  let bytes = 0;
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const abs = `${dir}/${name}`;
      const st = lstatSync(abs);
      files++;
      const hash = createHash('sha256');
      hash.update(`${st.mode} ${st.uid} ${st.gid} ${st.mtimeMs}`);
      if (st.isDirectory()) visit(abs);
      else if (st.isFile()) {
        const fd = openSync(abs, 'r');
        try {
          for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
            hash.update(chunk.subarray(0, n));
            bytes += n;
          }
        } finally {
          closeSync(fd);
        }
      }
      hash.digest();
    }
  };
  visit(root);
  return { files, bytes };
}

function floors(root: string): { find: Contender; read: Contender } {
  return {
    find: {
      name: 'find -printf (lstat floor)',
      run: () => measureCommand('find', [root, '-printf', '%p %s %T@ %m %U %G %i %n\\n']),
    },
    read: {
      name: 'tar | cat (read floor)',
      run: () => measureCommand('bash', ['-c', 'tar -C "$1" -cf - . | cat > /dev/null', 'tar', root]),
    },
  };
}

const kaniko = (root: string): Contender => ({
  name: 'kaniko-style (1 thread, sha256)',
  run: async () => kanikoStyleSnapshot(root),
});

/** A Kiln contender; with `previous`, the rescan includes the diff against it. */
function kiln(
  root: string,
  pool: () => HashPool,
  strategy: SnapshotStrategyName,
  threads: number,
  previous?: () => Snapshot | undefined,
): Contender {
  return {
    name: `kiln ${strategy} ×${threads}`,
    run: async () => {
      const before = previous?.();
      const snapshot = await takeSnapshot(root, {
        strategy,
        threads,
        pool: pool(),
        ...(before ? { previous: before } : {}),
      });
      const extra: Record<string, number> = {
        entries: snapshot.size,
        filesHashed: snapshot.stats.filesHashed,
      };
      if (before) extra.changes = diffSnapshots(before, snapshot).changes.length;
      return { files: snapshot.size, bytes: snapshot.stats.bytesHashed, extra };
    },
  };
}

/** 10 files edited, 5 deleted, 5 added; undone by the returned function. */
function applySmallChange(root: string, base: Snapshot): () => void {
  const candidates: string[] = [];
  for (let i = 0; i < base.size && candidates.length < 15; i += Math.max(1, Math.floor(base.size / 40))) {
    const entry = base.entry(i);
    if (entry.type === 'file' && entry.nlink === 1) candidates.push(entry.path);
  }
  const saved = candidates.map((path) => ({
    path,
    content: readFileSync(`${root}/${path}`),
    mode: statSync(`${root}/${path}`).mode,
  }));
  for (const { path, content } of saved.slice(0, 10)) {
    writeFileSync(`${root}/${path}`, Buffer.concat([content, Buffer.from('edit')]));
  }
  for (const { path } of saved.slice(10)) rmSync(`${root}/${path}`);
  mkdirSync(`${root}/bench-added`, { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(`${root}/bench-added/new-${i}`, `added ${i}\n`.repeat(100));
  return () => {
    for (const { path, content, mode } of saved) writeFileSync(`${root}/${path}`, content, { mode });
    rmSync(`${root}/bench-added`, { recursive: true, force: true });
  };
}

/** 20k files of ~4 KiB in 200 new dirs. */
function applyLargeChange(root: string): () => void {
  const body = Buffer.alloc(4096, 'k');
  for (let d = 0; d < 200; d++) {
    mkdirSync(`${root}/bench-bulk/d${d}`, { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(`${root}/bench-bulk/d${d}/f${f}`, body);
  }
  return () => rmSync(`${root}/bench-bulk`, { recursive: true, force: true });
}

/**
 * An unchanged rescan as CI runs it: a whole `kiln snapshot DIR --against SAVED` process of the bundled
 * CLI (Node's start, loading the saved file, the walk, the diff, the report) against `find -printf` with
 * every lstat field, in the same rounds.
 */
function rescanProcessCase(ctx: SuiteContext, name: string, root: string, find: Contender): BenchCase {
  const outdir = join(ctx.workDir, 'kiln-dist');
  const cli = join(outdir, 'kiln.mjs');
  const saved = join(ctx.workDir, `rescan-${name}.snapshot`);
  return {
    name: `rescan-process/${name}`,
    baseline: find,
    setup: async () => {
      await bundleCli({ outdir, logLevel: 'silent' });
      await measureCommand(process.execPath, [cli, 'snapshot', root, '--save', saved]);
    },
    teardown: async () => rmSync(saved, { force: true }),
    contenders: [
      {
        name: 'kiln snapshot --against (process)',
        run: () => measureCommand(process.execPath, [cli, 'snapshot', root, '--against', saved]),
      },
    ],
    targets: [
      {
        contender: 'kiln snapshot --against (process)',
        maxRatio: 1,
        note: "an unchanged rescan at find's speed",
      },
    ],
  };
}

async function snapshotCases(ctx: SuiteContext): Promise<BenchCase[]> {
  const { name, root, ownTree } = await prepareFixture(ctx);
  if (process.env.KILN_BENCH_SNAPSHOT_CASES === 'rescan-process') {
    return [rescanProcessCase(ctx, name, root, floors(root).find)];
  }
  const threads = availableParallelism();
  const { find, read } = floors(root);
  // Each case's workers, as a build's: started by the first snapshot, kept warm across runs.
  let current: HashPool | undefined;
  const pool = () => {
    current ??= createHashPool({ threads });
    return current;
  };
  const closePool = async () => {
    await current?.close();
    current = undefined;
  };
  const cases: BenchCase[] = [
    {
      name: `first/${name}`,
      baseline: kaniko(root),
      contenders: [
        find,
        read,
        kiln(root, pool, 'metadata', 1),
        kiln(root, pool, 'full', 1),
        kiln(root, pool, 'full', threads),
        kiln(root, pool, 'incremental', 1),
        kiln(root, pool, 'incremental', threads),
      ],
      teardown: closePool,
      targets: [
        { contender: `kiln full ×${threads}`, maxRatio: 1 / 3, note: '≥3× faster than Kaniko-style' },
        {
          contender: `kiln full ×${threads}`,
          against: 'kiln full ×1',
          maxRatio: 1 / 1.6,
          note: '≥1.6× faster than kiln full ×1',
        },
      ],
    },
  ];

  const rescan = (scenario: string, change?: (base: Snapshot) => () => void): BenchCase => {
    const previous = new Map<string, Snapshot>();
    let undo: (() => void) | undefined;
    const strategies: SnapshotStrategyName[] = ['full', 'metadata', 'incremental'];
    return {
      name: `${scenario}/${name}`,
      baseline: find,
      setup: async () => {
        for (const strategy of strategies)
          previous.set(strategy, await takeSnapshot(root, { strategy, threads, pool: pool() }));
        undo = change?.(previous.get('incremental')!);
      },
      teardown: async () => {
        undo?.();
        await closePool();
      },
      contenders: [
        kaniko(root),
        kiln(root, pool, 'full', threads, () => previous.get('full')),
        kiln(root, pool, 'metadata', 1, () => previous.get('metadata')),
        kiln(root, pool, 'incremental', 1, () => previous.get('incremental')),
        kiln(root, pool, 'incremental', threads, () => previous.get('incremental')),
      ],
      targets:
        scenario === 'rescan-unchanged'
          ? [{ contender: `kiln incremental ×${threads}`, maxRatio: 2, note: 'within 2× of the lstat floor' }]
          : [],
    };
  };
  cases.push(rescanProcessCase(ctx, name, root, find));
  // A tree of one's own is only read: the change scenarios write into theirs.
  if (ownTree) return [...cases, rescan('rescan-unchanged')];
  cases.push(
    rescan('rescan-unchanged'),
    rescan('rescan-small-change', (base) => applySmallChange(root, base)),
    rescan('rescan-large-change', () => applyLargeChange(root)),
  );
  return cases;
}

export const snapshotSuite: Suite = {
  name: 'snapshot',
  description: 'kiln snapshot strategies vs the find/tar floors and a Kaniko-style baseline',
  cases: snapshotCases,
  fixtureHashes: async () => fixtureHashes,
};
