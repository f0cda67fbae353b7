import { chmodSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { diffSnapshots } from './diffSnapshots.ts';
import { createHashPool } from './hashPool.ts';
import { takeSnapshot } from './takeSnapshot.ts';
import { makeTempDir } from './testTree.ts';
import type { ChangeSet, SnapshotStrategyName } from './types.ts';

// One pool for every run, as a build shares one across its steps (starting workers per run is slow).
const pool = createHashPool({ threads: 2 });
afterAll(() => pool.close());

type Node =
  | { type: 'file'; content: string; mode: number }
  | { type: 'dir'; mode: number }
  | { type: 'symlink'; target: string };
type Model = Map<string, Node>;
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

const names = ['a', 'b', 'a-b', 'a0', 'é', 'z z', 'c'];
const contents = ['', 'x', 'yy', 'zzz'];

const treeSpec = fc.array(
  fc.record({
    parent: fc.nat(),
    name: fc.constantFrom(...names),
    kind: fc.constantFrom('file', 'dir', 'dir', 'symlink'),
    content: fc.constantFrom(...contents),
  }),
  { minLength: 1, maxLength: 14 },
);
const mutationSpec = fc.array(
  fc.record({
    op: fc.constantFrom('edit', 'delete', 'add', 'chmod', 'touch', 'retarget', 'replaceType'),
    target: fc.nat(),
    name: fc.constantFrom(...names),
    content: fc.constantFrom(...contents),
  }),
  { minLength: 1, maxLength: 6 },
);

function put(root: string, model: Model, rel: string, node: Node): void {
  const abs = path.join(root, rel);
  if (node.type === 'dir') mkdirSync(abs);
  else if (node.type === 'file') writeFileSync(abs, node.content);
  else symlinkSync(node.target, abs);
  if (node.type !== 'symlink') chmodSync(abs, node.mode);
  model.set(rel, node);
}

function remove(root: string, model: Model, rel: string): void {
  rmSync(path.join(root, rel), { recursive: true, force: true });
  for (const key of [...model.keys()]) if (key === rel || key.startsWith(`${rel}/`)) model.delete(key);
}

function buildTree(root: string, spec: ValueOf<typeof treeSpec>): Model {
  const model: Model = new Map();
  for (const item of spec) {
    const dirs = ['', ...[...model].filter(([, n]) => n.type === 'dir').map(([p]) => p)];
    const parent = dirs[item.parent % dirs.length]!;
    const rel = parent === '' ? item.name : `${parent}/${item.name}`;
    if (model.has(rel)) continue;
    const node: Node =
      item.kind === 'dir'
        ? { type: 'dir', mode: 0o755 }
        : item.kind === 'file'
          ? { type: 'file', content: item.content, mode: 0o644 }
          : { type: 'symlink', target: item.content || 'nowhere' };
    put(root, model, rel, node);
  }
  return model;
}

function mutate(root: string, model: Model, spec: ValueOf<typeof mutationSpec>): void {
  for (const m of spec) {
    const paths = [...model.keys()].sort();
    if (paths.length === 0) return;
    const rel = paths[m.target % paths.length]!;
    const node = model.get(rel)!;
    const abs = path.join(root, rel);
    if (m.op === 'edit' && node.type === 'file')
      put(root, model, rel, { ...node, content: `${node.content}!` });
    else if (m.op === 'delete') remove(root, model, rel);
    else if (m.op === 'add' && node.type === 'dir' && !model.has(`${rel}/${m.name}`)) {
      put(root, model, `${rel}/${m.name}`, { type: 'file', content: m.content, mode: 0o600 });
    } else if (m.op === 'chmod' && node.type !== 'symlink') {
      const mode = node.mode === 0o700 ? 0o755 : 0o700;
      chmodSync(abs, mode);
      model.set(rel, { ...node, mode });
    } else if (m.op === 'touch' && node.type !== 'symlink') utimesSync(abs, 1_000_000, 1_000_000 + m.target);
    else if (m.op === 'retarget' && node.type === 'symlink') {
      remove(root, model, rel);
      put(root, model, rel, { type: 'symlink', target: `${node.target}x` });
    } else if (m.op === 'replaceType' && node.type !== 'symlink') {
      remove(root, model, rel);
      put(
        root,
        model,
        rel,
        node.type === 'dir' ? { type: 'file', content: 'r', mode: 0o644 } : { type: 'dir', mode: 0o755 },
      );
    }
  }
}

/** What a layer applier would make of `before` with the change set: whiteouts, opaque dirs, new entries. */
function apply(before: Model, after: Model, set: ChangeSet): Model {
  const result = new Map(before);
  const dropUnder = (dir: string, self: boolean) => {
    for (const key of [...result.keys()])
      if ((self && key === dir) || key.startsWith(`${dir}/`)) result.delete(key);
  };
  for (const dir of set.opaqueDirs) dropUnder(dir, false);
  for (const change of set.changes) {
    if (change.kind === 'deleted') dropUnder(change.path, true);
    else {
      const node = after.get(change.path)!;
      if (node.type !== 'dir') dropUnder(change.path, false);
      result.set(change.path, node);
    }
  }
  return result;
}

const sorted = (model: Model) => [...model].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));

async function checkDiffEqualsMutations(strategy: SnapshotStrategyName): Promise<void> {
  await fc.assert(
    fc.asyncProperty(treeSpec, mutationSpec, async (treeItems, mutations) => {
      const temp = makeTempDir();
      try {
        const before = buildTree(temp.dir, treeItems);
        const snapBefore = await takeSnapshot(temp.dir, { strategy, xattrs: false });
        const after = new Map(before);
        mutate(temp.dir, after, mutations);
        const snapAfter = await takeSnapshot(temp.dir, {
          strategy,
          previous: snapBefore,
          xattrs: false,
          threads: 2,
          pool,
        });
        const set = diffSnapshots(snapBefore, snapAfter);
        // Complete: applying the change set to the old tree gives the new one.
        expect(sorted(apply(before, after, set))).toEqual(sorted(after));
        // Minimal: every change is a real difference (an opaque dir's own entry excepted).
        for (const change of set.changes) {
          if (change.kind === 'deleted')
            expect(before.has(change.path) && !after.has(change.path)).toBe(true);
          else if (change.kind === 'added') expect(before.has(change.path)).toBe(false);
          else if (!set.opaqueDirs.includes(change.path)) {
            expect(after.get(change.path)).not.toEqual(before.get(change.path));
          }
        }
      } finally {
        temp.remove();
      }
    }),
    { numRuns: strategy === 'incremental' ? 60 : 25 },
  );
}

it('incremental: the diff is exactly the mutations applied to a random tree', async () => {
  await checkDiffEqualsMutations('incremental');
});

it('full: the diff is exactly the mutations applied to a random tree', async () => {
  await checkDiffEqualsMutations('full');
});
