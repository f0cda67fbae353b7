/**
 * USTAR header encoding with PAX extended headers where USTAR cannot hold a value.
 * Written by hand rather than with tar-stream's packer because PAX values must be raw bytes
 * (`SCHILY.xattr.security.capability` is binary) and uid/gid beyond USTAR's range need PAX records,
 * neither of which tar-stream's encoder carries; it also lets headers go straight into the block buffer.
 */

export const blockSize = 512;

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** Archive path, no leading `/`; directories without a trailing `/` (added here). */
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Uint8Array>;
}

const typeflags: Record<TarEntryType, number> = {
  file: 0x30,
  hardlink: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  dir: 0x35,
  fifo: 0x36,
};

const maxOctal7 = 0o7777777;
const maxOctal11 = 0o77777777777;

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7e) return false;
  return true;
}

/** Splits a long ASCII name into USTAR prefix (≤155) and name (≤100), or returns undefined. */
function splitUstarName(name: string): [string, string] | undefined {
  if (name.length <= 100) return ['', name];
  if (name.length > 256) return undefined;
  // The split must be at a `/`, with the name part ≤100 and prefix ≤155.
  for (let i = name.length - 101; i < name.length; i++) {
    if (i < 1) continue;
    if (name.charCodeAt(i) === 0x2f && i <= 155) return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

function writeOctal(buf: Uint8Array, offset: number, width: number, value: number): void {
  const digits = Math.max(0, Math.floor(value))
    .toString(8)
    .padStart(width - 1, '0');
  for (let i = 0; i < width - 1; i++) buf[offset + i] = digits.charCodeAt(i);
  buf[offset + width - 1] = 0;
}

function writeAscii(buf: Uint8Array, offset: number, width: number, value: string): void {
  const n = Math.min(width, value.length);
  for (let i = 0; i < n; i++) buf[offset + i] = value.charCodeAt(i) & 0x7f;
}

function paxRecord(key: string, value: Uint8Array): Buffer {
  // "<len> <key>=<value>\n" where len counts itself.
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function paddedLength(size: number): number {
  return Math.ceil(size / blockSize) * blockSize;
}

function writeUstar(
  buf: Uint8Array,
  offset: number,
  fields: {
    name: string;
    prefix: string;
    mode: number;
    uid: number;
    gid: number;
    size: number;
    mtime: number;
    typeflag: number;
    linkname: string;
    devmajor: number;
    devminor: number;
  },
): void {
  buf.fill(0, offset, offset + blockSize);
  writeAscii(buf, offset, 100, fields.name);
  writeOctal(buf, offset + 100, 8, fields.mode);
  writeOctal(buf, offset + 108, 8, fields.uid);
  writeOctal(buf, offset + 116, 8, fields.gid);
  writeOctal(buf, offset + 124, 12, fields.size);
  writeOctal(buf, offset + 136, 12, fields.mtime);
  buf[offset + 156] = fields.typeflag;
  writeAscii(buf, offset + 157, 100, fields.linkname);
  writeAscii(buf, offset + 257, 6, 'ustar\0');
  writeAscii(buf, offset + 263, 2, '00');
  writeOctal(buf, offset + 329, 8, fields.devmajor);
  writeOctal(buf, offset + 337, 8, fields.devminor);
  writeAscii(buf, offset + 345, 155, fields.prefix);
  // The checksum is computed with its own field as spaces.
  let sum = 8 * 0x20;
  for (let i = 0; i < blockSize; i++) if (i < 148 || i >= 156) sum += buf[offset + i]!;
  writeOctal(buf, offset + 148, 7, sum);
  buf[offset + 155] = 0x20;
}

/**
 * The bytes of the header block(s) for an entry: a PAX `x` header with its records when needed,
 * then the USTAR header. Content (and its padding) is the caller's.
 */
export function encodeTarHeader(header: TarHeader): Buffer {
  const name = header.type === 'dir' ? `${header.name}/` : header.name;
  const linkname = header.linkname ?? '';
  const pax: Buffer[] = [];
  let split = isAscii(name) ? splitUstarName(name) : undefined;
  if (split === undefined) {
    pax.push(paxRecord('path', Buffer.from(name, 'utf8')));
    split = ['', asciiFallback(name, 100)];
  }
  let ustarLink = linkname;
  if (linkname.length > 100 || !isAscii(linkname)) {
    pax.push(paxRecord('linkpath', Buffer.from(linkname, 'utf8')));
    ustarLink = asciiFallback(linkname, 100);
  }
  let { uid, gid, size } = header;
  if (uid > maxOctal7) {
    pax.push(paxRecord('uid', Buffer.from(String(uid))));
    uid = 0;
  }
  if (gid > maxOctal7) {
    pax.push(paxRecord('gid', Buffer.from(String(gid))));
    gid = 0;
  }
  if (size > maxOctal11) {
    pax.push(paxRecord('size', Buffer.from(String(size))));
    size = 0;
  }
  let mtime = Math.max(0, header.mtime);
  if (mtime > maxOctal11) {
    pax.push(paxRecord('mtime', Buffer.from(String(mtime))));
    mtime = maxOctal11;
  }
  if (header.xattrs !== undefined) {
    for (const key of Object.keys(header.xattrs).sort()) {
      pax.push(paxRecord(`SCHILY.xattr.${key}`, header.xattrs[key]!));
    }
  }
  const fields = {
    name: split[1],
    prefix: split[0],
    mode: header.mode & 0o7777,
    uid,
    gid,
    size,
    mtime,
    typeflag: typeflags[header.type],
    linkname: ustarLink,
    devmajor: header.devmajor ?? 0,
    devminor: header.devminor ?? 0,
  };
  if (pax.length === 0) {
    const buf = Buffer.alloc(blockSize);
    writeUstar(buf, 0, fields);
    return buf;
  }
  const records = Buffer.concat(pax);
  const total = blockSize + paddedLength(records.length) + blockSize;
  const buf = Buffer.alloc(total);
  const base = header.name.slice(header.name.lastIndexOf('/') + 1);
  writeUstar(buf, 0, {
    name: asciiFallback(`PaxHeaders.0/${base}`, 100),
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: records.length,
    mtime: fields.mtime,
    typeflag: 0x78,
    linkname: '',
    devmajor: 0,
    devminor: 0,
  });
  records.copy(buf, blockSize);
  writeUstar(buf, blockSize + paddedLength(records.length), fields);
  return buf;
}

/** A stand-in for readers that ignore PAX: non-ASCII replaced, cut to the field. */
function asciiFallback(value: string, width: number): string {
  return value.slice(0, width).replace(/[^\x00-\x7e]/g, '_');
}

/** Zero padding after `size` content bytes. */
export function contentPadding(size: number): number {
  return paddedLength(size) - size;
}
