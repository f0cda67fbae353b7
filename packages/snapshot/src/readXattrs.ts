import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Node has no xattr API, and a getfattr process per file would cost milliseconds each. So one helper
 * process per snapshot reads the xattrs of every path given on its stdin (NUL-separated) with
 * listxattr/getxattr and answers only for the paths that have any. Python's os module is the one
 * listxattr binding commonly at hand; the snapshot asks only for paths that are new or whose ctime
 * changed (setting an xattr bumps ctime), so an unchanged rescan starts no helper at all.
 */
const helperSource = String.raw`
import os, sys
paths = sys.stdin.buffer.read().split(b"\0")
out = sys.stdout.buffer
for p in paths:
    if not p:
        continue
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        continue
    if not names:
        continue
    parts = [p, str(len(names)).encode()]
    for n in names:
        try:
            v = os.getxattr(p, n, follow_symlinks=False)
        except OSError:
            v = b""
        parts.append(os.fsencode(n))
        parts.append(v.hex().encode())
    out.write(b"\0".join(parts) + b"\0")
out.flush()
`;

const pythonCandidates = ['/usr/bin/python3', '/usr/local/bin/python3', '/bin/python3'];

export function xattrHelper(): string | undefined {
  return pythonCandidates.find((candidate) => existsSync(candidate));
}

/** Xattrs of the given paths (relative to `root`), keyed by path; paths without xattrs are absent. */
export function readXattrs(
  root: string,
  paths: readonly string[],
  helper: string,
): Promise<Map<string, Record<string, Uint8Array>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(helper, ['-c', helperSource], { cwd: root, stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`xattr helper exited with ${code}`));
      resolve(parseHelperOutput(Buffer.concat(chunks)));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(Buffer.from(paths.join('\0'), 'utf8'));
  });
}

function parseHelperOutput(output: Buffer): Map<string, Record<string, Uint8Array>> {
  const result = new Map<string, Record<string, Uint8Array>>();
  const fields = output.toString('utf8').split('\0');
  let i = 0;
  while (i + 1 < fields.length) {
    const path = fields[i++]!;
    const count = Number(fields[i++]);
    const xattrs: Record<string, Uint8Array> = {};
    for (let n = 0; n < count; n++) {
      const name = fields[i++]!;
      xattrs[name] = new Uint8Array(Buffer.from(fields[i++] ?? '', 'hex'));
    }
    result.set(path, xattrs);
  }
  return result;
}
