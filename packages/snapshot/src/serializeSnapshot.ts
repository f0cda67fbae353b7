import { KilnError } from '@kiln/errors';
import { CompactSnapshot, snapshotColumns } from './compactSnapshot.ts';
import { allocateColumns, numericColumnNames } from './entryColumns.ts';
import { rememberPathBytes } from './pathEncoding.ts';
import type { Snapshot, SnapshotStats, SnapshotStrategyName } from './types.ts';

const MAGIC = 'KILNSNP1';
/** Bytes of numeric columns per entry: a file of `count` entries is at least this times longer. */
const BYTES_PER_ENTRY = 71;

interface Header {
  root: string;
  strategy: SnapshotStrategyName;
  hashed: boolean;
  stats: SnapshotStats;
  count: number;
  pathBytes: number;
  linkTargets: Array<[number, string]>;
  rdevs: Array<[number, number]>;
  xattrs: Array<[number, Record<string, string>]>;
}

/**
 * A compact binary form for `kiln snapshot --save`: magic, a JSON header with the sparse fields, the
 * paths NUL-joined, then each numeric column as raw bytes (8-byte aligned), so loading is a few copies.
 */
export function serializeSnapshot(snapshot: Snapshot): Uint8Array {
  const columns = snapshotColumns(snapshot);
  const paths = Buffer.from(columns.paths.join('\0'), 'utf8');
  const header: Header = {
    root: snapshot.root,
    strategy: snapshot.strategy,
    hashed: snapshot.hashed,
    stats: snapshot.stats,
    count: columns.paths.length,
    pathBytes: paths.length,
    linkTargets: [...columns.linkTargets],
    rdevs: [...columns.rdevs],
    xattrs: [...columns.xattrs].map(([i, attrs]) => [
      i,
      Object.fromEntries(
        Object.entries(attrs).map(([name, value]) => [name, Buffer.from(value).toString('base64')]),
      ),
    ]),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const parts: Uint8Array[] = [Buffer.from(MAGIC, 'latin1'), u32(headerBytes.length), headerBytes, paths];
  let offset = 12 + headerBytes.length + paths.length;
  for (const name of numericColumnNames()) {
    const padding = (8 - (offset % 8)) % 8;
    parts.push(new Uint8Array(padding));
    const column = columns[name];
    parts.push(new Uint8Array(column.buffer, column.byteOffset, column.byteLength));
    offset += padding + column.byteLength;
  }
  return Buffer.concat(parts);
}

export function deserializeSnapshot(bytes: Uint8Array): Snapshot {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < 12 || data.toString('latin1', 0, 8) !== MAGIC) {
    throw new KilnError('SNAPSHOT_BAD_FILE', 'not a saved Kiln snapshot', {
      hint: 'save one with `kiln snapshot DIR --save FILE`',
    });
  }
  try {
    const headerLength = data.readUInt32LE(8);
    const header = JSON.parse(data.toString('utf8', 12, 12 + headerLength)) as Header;
    let offset = 12 + headerLength;
    // Checked before allocating: a damaged count must not ask for gigabytes.
    if (
      !Number.isInteger(header.count) ||
      header.count < 0 ||
      header.count * BYTES_PER_ENTRY > data.length ||
      !Number.isInteger(header.pathBytes) ||
      header.pathBytes < 0
    )
      throw new Error('bad counts');
    // Columns are views of the file's bytes where aligned (they always are in a file read whole): loading
    // copies nothing, and a snapshot's columns are never written after it is made.
    const columns = allocateColumns(0);
    const pathsEnd = offset + header.pathBytes;
    if (pathsEnd > data.length) throw new Error('truncated');
    const pathBytes = data.subarray(offset, pathsEnd);
    if (header.count > 0) {
      // Split into strings only when asked for: an unchanged rescan compares the bytes in kiln-xattr.
      let paths: string[] | undefined;
      const split = () => {
        paths ??= pathBytes.toString('utf8').split('\0');
        if (paths.length !== header.count) throw badFile(new Error('path count mismatch'));
        return paths;
      };
      Object.defineProperty(columns, 'paths', {
        get: split,
        set: (value: string[]) => {
          paths = value;
        },
        enumerable: true,
        configurable: true,
      });
      rememberPathBytes(columns, { bytes: pathBytes });
    }
    offset = pathsEnd;
    for (const name of numericColumnNames()) {
      offset += (8 - (offset % 8)) % 8;
      const kind = columns[name].constructor as TypedArrayKind;
      const end = offset + header.count * kind.BYTES_PER_ELEMENT;
      if (end > data.length) throw new Error('truncated');
      const at = data.byteOffset + offset;
      const column =
        at % kind.BYTES_PER_ELEMENT === 0
          ? new kind(data.buffer, at, header.count)
          : new kind(new Uint8Array(data.subarray(offset, end)).buffer);
      // biome-ignore lint/suspicious/noExplicitAny: each column gets a typed array of its own kind
      (columns as any)[name] = column;
      offset = end;
    }
    columns.linkTargets = new Map(header.linkTargets);
    columns.rdevs = new Map(header.rdevs);
    columns.xattrs = new Map(
      header.xattrs.map(([i, attrs]) => [
        i,
        Object.fromEntries(
          Object.entries(attrs).map(([name, value]) => [name, new Uint8Array(Buffer.from(value, 'base64'))]),
        ),
      ]),
    );
    return new CompactSnapshot(header.root, header.strategy, header.hashed, columns, header.stats);
  } catch (cause) {
    throw badFile(cause);
  }
}

function badFile(cause: unknown): KilnError {
  if (cause instanceof KilnError) return cause;
  return new KilnError('SNAPSHOT_BAD_FILE', 'the saved snapshot is damaged or truncated', { cause });
}

type TypedArrayKind = {
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
};

function u32(value: number): Uint8Array {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}
