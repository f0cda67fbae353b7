import { spawnSync } from 'node:child_process';
import { resolveXattrHelper } from '@kiln/snapshot';

export interface XattrTarget {
  path: string;
  xattrs: Record<string, Uint8Array>;
}

/**
 * Node has no setxattr, so one helper process (`kiln-xattr set`, images/executor/xattr-helper.c, where it
 * exists, else this Python script; the same protocol) sets every collected xattr at the
 * end of an extraction (after ownership, since chown clears `security.capability`). Returns the paths
 * it could not set, with why; all of them when no helper is at hand.
 */
const helperSource = `
import json, os, sys
failed = []
for path, name, value in json.load(sys.stdin):
    try:
        os.setxattr(path, name, bytes.fromhex(value), follow_symlinks=False)
    except OSError as error:
        failed.append([path, name, error.strerror or str(error)])
json.dump(failed, sys.stdout)
`;

export function setXattrs(targets: XattrTarget[]): Array<{ path: string; name: string; reason: string }> {
  const triples = targets.flatMap((t) =>
    Object.entries(t.xattrs).map(([name, value]) => [t.path, name, Buffer.from(value).toString('hex')]),
  );
  if (triples.length === 0) return [];
  const helper = resolveXattrHelper('set', helperSource);
  if (helper === undefined) {
    return triples.map(([path, name]) => ({
      path: path!,
      name: name!,
      reason: 'no kiln-xattr or python3 to set xattrs with',
    }));
  }
  const run = spawnSync(helper.command, helper.args, { input: JSON.stringify(triples), encoding: 'utf8' });
  if (run.status !== 0) {
    const reason = `xattr helper failed: ${(run.stderr ?? String(run.error)).trim().split('\n').pop()}`;
    return triples.map(([path, name]) => ({ path: path!, name: name!, reason }));
  }
  return (JSON.parse(run.stdout) as string[][]).map(([path, name, reason]) => ({
    path: path!,
    name: name!,
    reason: reason!,
  }));
}
