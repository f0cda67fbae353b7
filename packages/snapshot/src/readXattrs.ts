import { spawn } from 'node:child_process';
import { resolveXattrHelper, type XattrHelperCommand } from './xattrHelper.ts';

/**
 * Node has no xattr API, and a getfattr process per file would cost milliseconds each. So one helper
 * process per snapshot reads the xattrs of every path given on its stdin (NUL-separated) with
 * listxattr/getxattr and answers, by position, only for the paths that have any: Kiln's static
 * `kiln-xattr get` (images/executor/xattr-helper.c, same protocol) where it exists, else this script,
 * Python's os module being the one listxattr binding commonly at hand (see resolveXattrHelper). The
 * snapshot asks only for paths that are new or whose ctime changed (setting an xattr bumps ctime), so an
 * unchanged rescan starts no helper at all.
 */
const helperSource = String.raw`
import os, sys
out = sys.stdout.buffer
rest = b""
seq = -1
def answer(p):
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        return
    if not names:
        return
    parts = [str(seq).encode(), str(len(names)).encode()]
    for n in names:
        try:
            v = os.getxattr(p, n, follow_symlinks=False)
        except OSError:
            v = b""
        parts.append(os.fsencode(n))
        parts.append(v.hex().encode())
    out.write(b"\0".join(parts) + b"\0")
while True:
    chunk = os.read(0, 1 << 16)
    if not chunk:
        break
    items = (rest + chunk).split(b"\0")
    rest = items.pop()
    for p in items:
        seq += 1
        answer(p)
if rest:
    seq += 1
    answer(rest)
out.flush()
`;

export function xattrHelper(): XattrHelperCommand | undefined {
  return resolveXattrHelper('get', helperSource);
}

/**
 * A running helper: paths are streamed to it while the walk goes on (it works on another core), and
 * `result()` ends its input and resolves with the xattrs by position; paths without xattrs are absent.
 */
export interface XattrReader {
  add(path: string): void;
  /** Xattrs by the position of the path among those added. */
  result(): Promise<Map<number, Record<string, Uint8Array>>>;
}

export function startXattrReader(root: string, helper: XattrHelperCommand): XattrReader {
  const child = spawn(helper.command, helper.args, { cwd: root, stdio: ['pipe', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Map<number, Record<string, Uint8Array>>>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`xattr helper exited with ${code}`));
      resolve(parseHelperOutput(Buffer.concat(chunks)));
    });
  });
  // Failures surface through result(); a helper that died early must not crash the walk.
  done.catch(() => {});
  child.stdin.on('error', () => {});
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    child.stdin.write(`${pending.join('\0')}\0`);
    pending = [];
  };
  return {
    add: (path) => {
      pending.push(path);
      if (pending.length >= 2048) flush();
    },
    result: () => {
      flush();
      child.stdin.end();
      return done;
    },
  };
}

function parseHelperOutput(output: Buffer): Map<number, Record<string, Uint8Array>> {
  const result = new Map<number, Record<string, Uint8Array>>();
  const fields = output.toString('utf8').split('\0');
  let i = 0;
  while (i + 1 < fields.length) {
    const position = Number(fields[i++]);
    const count = Number(fields[i++]);
    const xattrs: Record<string, Uint8Array> = {};
    for (let n = 0; n < count; n++) {
      const name = fields[i++]!;
      xattrs[name] = new Uint8Array(Buffer.from(fields[i++] ?? '', 'hex'));
    }
    result.set(position, xattrs);
  }
  return result;
}
