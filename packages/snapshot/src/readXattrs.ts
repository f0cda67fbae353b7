import { spawn } from 'node:child_process';
import { resolveXattrHelper, type XattrHelperCommand } from './xattrHelper.ts';

/**
 * Node has no xattr API, and a getfattr process per file would cost milliseconds each. So one helper
 * process per snapshot reads xattrs with listxattr/getxattr and answers only for entries that have any:
 * Kiln's static `kiln-xattr` (images/executor/xattr-helper.c, same protocols) where it exists, else this
 * script, Python's os module being the one listxattr binding commonly at hand (see resolveXattrHelper).
 * Two modes: `get` takes paths (a rescan asks only for entries that are new or whose ctime changed, as
 * setting an xattr bumps ctime, so an unchanged rescan starts no helper); `get-dirs` takes directories
 * and answers for every entry in them (a first snapshot: a few thousand directory names cross the pipe
 * instead of every path, and the helper lists each directory itself, off the walking thread).
 */
const helperSource = String.raw`
import os, sys
out = sys.stdout.buffer
dirs = sys.argv[1:] == ["get-dirs"]
start = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
def answer(seq, entry, p):
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        return
    if not names:
        return
    parts = [str(seq).encode()]
    if entry is not None:
        parts.append(entry)
    parts.append(str(len(names)).encode())
    for n in names:
        try:
            v = os.getxattr(p, n, follow_symlinks=False)
        except OSError:
            v = b""
        parts.append(os.fsencode(n))
        parts.append(v.hex().encode())
    out.write(b"\0".join(parts) + b"\0")
def answer_dir(seq, d):
    try:
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        os.fchdir(fd)
        for name in os.listdir(b"."):
            answer(seq, name, name)
    except OSError:
        pass
    finally:
        os.fchdir(start)
        os.close(fd)
each = answer_dir if dirs else (lambda seq, p: answer(seq, None, p))
rest = b""
seq = -1
while True:
    chunk = os.read(0, 1 << 16)
    if not chunk:
        break
    items = (rest + chunk).split(b"\0")
    rest = items.pop()
    for p in items:
        seq += 1
        each(seq, p)
if rest:
    seq += 1
    each(seq, rest)
out.flush()
`;

export type XattrReaderMode = 'get' | 'get-dirs';

export function xattrHelper(mode: XattrReaderMode = 'get'): XattrHelperCommand | undefined {
  return resolveXattrHelper(mode, helperSource);
}

/** Xattrs the helper found: `seq` is the position of the path (`get`) or directory (`get-dirs`) sent. */
export interface XattrRecord {
  seq: number;
  /** The entry's name inside the directory (`get-dirs` only). */
  entry?: string;
  xattrs: Record<string, Uint8Array>;
}

/**
 * A running helper: paths (or directories) are streamed to it while the walk goes on (it works on
 * another core), and `result()` ends its input and resolves with what it found.
 */
export interface XattrReader {
  add(path: string): void;
  result(): Promise<XattrRecord[]>;
  /** Stops the helper without waiting for an answer (the walk failed). */
  cancel(): void;
}

export function startXattrReader(
  root: string,
  helper: XattrHelperCommand,
  mode: XattrReaderMode,
): XattrReader {
  const child = spawn(helper.command, helper.args, { cwd: root, stdio: ['pipe', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<XattrRecord[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`xattr helper exited with ${code}`));
      resolve(parseHelperOutput(Buffer.concat(chunks), mode === 'get-dirs'));
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
    cancel: () => {
      child.stdin.destroy();
      child.kill();
    },
  };
}

function parseHelperOutput(output: Buffer, named: boolean): XattrRecord[] {
  const result: XattrRecord[] = [];
  const fields = output.toString('utf8').split('\0');
  let i = 0;
  while (i + 1 < fields.length) {
    const seq = Number(fields[i++]);
    const entry = named ? fields[i++]! : undefined;
    const count = Number(fields[i++]);
    const xattrs: Record<string, Uint8Array> = {};
    for (let n = 0; n < count; n++) {
      const name = fields[i++]!;
      xattrs[name] = new Uint8Array(Buffer.from(fields[i++] ?? '', 'hex'));
    }
    result.push(entry === undefined ? { seq, xattrs } : { seq, entry, xattrs });
  }
  return result;
}
