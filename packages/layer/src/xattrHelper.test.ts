import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobStore } from '@kiln/image';
import { takeSnapshot } from '@kiln/snapshot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeSetFromTree } from './changeSetFromTree.ts';
import { extractLayer } from './extractLayer.ts';
import type { LayerEvent } from './layerEvents.ts';
import { writeLayer } from './writeLayer.ts';

const source = fileURLToPath(new URL('../../../images/executor/xattr-helper.c', import.meta.url));
const gcc = ['/usr/bin/gcc', '/usr/local/bin/gcc', '/bin/gcc'].find((candidate) => existsSync(candidate));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-xattr-layer-'));
});
afterEach(() => {
  delete process.env.KILN_XATTR_HELPER;
  rmSync(dir, { recursive: true, force: true });
});

/** Every xattr of `file` as name → hex, read with the helper's `get`. */
function helperGet(helper: string, cwd: string, file: string): Record<string, string> {
  const run = spawnSync(helper, ['get'], { cwd, input: `${file}\0` });
  expect(run.status).toBe(0);
  const fields = run.stdout.toString('utf8').split('\0');
  const result: Record<string, string> = {};
  for (let i = 0; i < Number(fields[1] ?? 0); i++) result[fields[2 + 2 * i]!] = fields[3 + 2 * i]!;
  return result;
}

const skipReason = gcc === undefined ? ' (skipped: no gcc to compile images/executor/xattr-helper.c)' : '';

describe.skipIf(gcc === undefined)(`kiln-xattr in a layer round trip${skipReason}`, () => {
  it('snapshots and restores security.capability and user.* with the C helper instead of python3', async () => {
    const helper = join(dir, 'kiln-xattr');
    execFileSync(gcc!, ['-static', '-O2', '-o', helper, source], { stdio: 'pipe' });
    process.env.KILN_XATTR_HELPER = helper;

    const src = join(dir, 'src');
    mkdirSync(join(src, 'usr/bin'), { recursive: true });
    writeFileSync(join(src, 'usr/bin/ping'), 'binary');
    writeFileSync(join(src, 'notes'), 'n');
    chownSync(join(src, 'usr/bin/ping'), 1000, 1000);
    execFileSync('setcap', ['cap_net_raw+ep', join(src, 'usr/bin/ping')]);
    const set = spawnSync(helper, ['set'], { cwd: src, input: '[["notes", "user.kiln", "31"]]' });
    expect(set.stdout.toString()).toBe('[]');

    // Read with the C helper through the snapshot, carried into the layer as PAX records.
    const snapshot = await takeSnapshot(src);
    const changeSet = changeSetFromTree(src);
    for (const change of changeSet.changes) {
      const xattrs = snapshot.get(change.path)?.xattrs;
      if (xattrs !== undefined && change.entry !== undefined) change.entry.xattrs = xattrs;
    }
    expect(Object.keys(snapshot.get('usr/bin/ping')?.xattrs ?? {})).toEqual(['security.capability']);
    const store = new BlobStore(join(dir, 'store'));
    const layer = await writeLayer(changeSet, src, { store, compression: 'gzip', threads: 2 });

    const out = join(dir, 'out');
    const events: LayerEvent[] = [];
    await extractLayer(await store.open(layer.digest), out, {
      mediaType: layer.mediaType,
      onEvent: (e) => events.push(e),
    });
    expect(events.filter((e) => e.type === 'extract-xattr-skipped')).toEqual([]);
    expect(statSync(join(out, 'usr/bin/ping')).uid).toBe(1000);
    const want = helperGet(helper, src, 'usr/bin/ping');
    expect(Object.keys(want)).toEqual(['security.capability']);
    expect(helperGet(helper, out, 'usr/bin/ping')).toEqual(want);
    expect(helperGet(helper, out, 'notes')).toEqual({ 'user.kiln': '31' });
    expect(execFileSync('getcap', [join(out, 'usr/bin/ping')], { encoding: 'utf8' })).toContain(
      'cap_net_raw=ep',
    );
  });
});
