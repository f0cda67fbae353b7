import { KilnError } from '@kiln/errors';
import { blockSize } from './tarHeader.ts';

/**
 * A streaming tar parser (USTAR, PAX, GNU long names). Hand-written rather than tar-stream's
 * extractor because PAX xattr values are raw bytes that tar-stream decodes as text (losing
 * `security.capability`), and content is handed out as slices of the input without copies.
 */

export type TarReadType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'other';

export interface TarReadHeader {
  name: string;
  type: TarReadType;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, fractional when PAX gave sub-second precision. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer> | undefined;
}

// PAX records and GNU long names are held in memory; anything larger is hostile.
const maxMetadataBytes = 1024 * 1024;

function invalid(message: string): KilnError {
  return new KilnError('LAYER_INVALID_TAR', message, { hint: 'the layer blob is corrupt or not a tar' });
}

function decodeNumber(buf: Buffer, offset: number, length: number, field: string): number {
  const first = buf[offset]!;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit as the marker.
    if (first === 0xff) throw invalid(`negative ${field} in tar header`);
    let value = first & 0x7f;
    for (let i = 1; i < length; i++) {
      value = value * 256 + buf[offset + i]!;
      if (value > Number.MAX_SAFE_INTEGER) throw invalid(`${field} in tar header is too large`);
    }
    return value;
  }
  let end = offset;
  const limit = offset + length;
  while (end < limit && buf[end] === 0x20) end++;
  let value = 0;
  for (; end < limit; end++) {
    const c = buf[end]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw invalid(`bad octal digit in tar ${field}`);
    value = value * 8 + (c - 0x30);
  }
  if (value > Number.MAX_SAFE_INTEGER) throw invalid(`${field} in tar header is too large`);
  return value;
}

function decodeString(buf: Buffer, offset: number, length: number): string {
  let end = offset;
  const limit = offset + length;
  while (end < limit && buf[end] !== 0) end++;
  return buf.toString('utf8', offset, end);
}

function checksumOk(buf: Buffer, offset: number): boolean {
  const stored = decodeNumber(buf, offset + 148, 8, 'checksum');
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < blockSize; i++) {
    if (i >= 148 && i < 156) continue;
    const b = buf[offset + i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

const typesByFlag: Record<string, TarReadType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

function parsePax(data: Buffer, into: Map<string, Buffer>): void {
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) throw invalid('malformed PAX record');
    const len = Number(data.toString('latin1', pos, space));
    if (!Number.isSafeInteger(len) || len <= 0 || pos + len > data.length)
      throw invalid('malformed PAX record length');
    const record = data.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw invalid('malformed PAX record');
    into.set(record.toString('utf8', 0, eq), Buffer.from(record.subarray(eq + 1)));
    pos += len;
  }
}

/** PAX times have nanoseconds a double cannot hold near 2^31 s; keep microseconds so rounding never crosses a second. */
function paxTime(text: string): number {
  const [whole = '0', fraction = ''] = text.split('.');
  const seconds = Number(whole);
  if (!Number.isFinite(seconds)) throw invalid('bad PAX mtime');
  const micros = Number(fraction.slice(0, 6).padEnd(6, '0'));
  return seconds + micros / 1e6;
}

export class TarReader {
  readonly #source: AsyncIterator<Uint8Array>;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #remaining = 0;
  #padding = 0;
  #ended = false;
  /** Bytes of content handed out, for progress. */
  contentBytes = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  async #more(): Promise<boolean> {
    const { value, done } = await this.#source.next();
    if (done) return false;
    const chunk = Buffer.isBuffer(value)
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (this.#pos >= this.#buf.length) this.#buf = chunk;
    else this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), chunk]);
    this.#pos = 0;
    return true;
  }

  async #need(n: number): Promise<boolean> {
    while (this.#buf.length - this.#pos < n) {
      if (!(await this.#more())) return false;
    }
    return true;
  }

  async #skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#pos >= this.#buf.length && !(await this.#more()))
        throw invalid('tar stream ends inside an entry');
      const k = Math.min(left, this.#buf.length - this.#pos);
      this.#pos += k;
      left -= k;
    }
  }

  async #readAll(n: number): Promise<Buffer> {
    if (n > maxMetadataBytes) throw invalid(`tar metadata entry of ${n} bytes is too large`);
    const padded = Math.ceil(n / blockSize) * blockSize;
    if (!(await this.#need(padded))) throw invalid('tar stream ends inside an entry');
    const data = Buffer.from(this.#buf.subarray(this.#pos, this.#pos + n));
    this.#pos += padded;
    return data;
  }

  /** The next entry's header, or null at the end. Unread content of the previous entry is skipped. */
  async next(): Promise<TarReadHeader | null> {
    if (this.#ended) return null;
    await this.#skip(this.#remaining + this.#padding);
    this.#remaining = 0;
    this.#padding = 0;
    const pax = new Map<string, Buffer>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      if (!(await this.#need(blockSize))) {
        // Some writers omit the end-of-archive blocks; a clean end between entries is accepted.
        if (this.#buf.length - this.#pos === 0 && pax.size === 0 && longName === undefined) {
          this.#ended = true;
          return null;
        }
        throw invalid('tar stream ends inside a header');
      }
      const buf = this.#buf;
      const at = this.#pos;
      let zero = true;
      for (let i = 0; i < blockSize; i++) {
        if (buf[at + i] !== 0) {
          zero = false;
          break;
        }
      }
      if (zero) {
        this.#ended = true;
        return null;
      }
      if (!checksumOk(buf, at)) throw invalid('tar header checksum mismatch');
      const typeflag = String.fromCharCode(buf[at + 156]!);
      let size = decodeNumber(buf, at + 124, 12, 'size');
      this.#pos += blockSize;
      if (typeflag === 'x' || typeflag === 'g') {
        const data = await this.#readAll(size);
        // Global headers are parsed (to validate) but not applied: layers do not use them.
        parsePax(data, typeflag === 'x' ? pax : new Map());
        continue;
      }
      if (typeflag === 'L' || typeflag === 'K') {
        const data = await this.#readAll(size);
        const end = data.indexOf(0);
        const text = data.toString('utf8', 0, end === -1 ? data.length : end);
        if (typeflag === 'L') longName = text;
        else longLink = text;
        continue;
      }
      if (typeflag === 'S') {
        throw new KilnError('LAYER_UNSUPPORTED_ENTRY', 'sparse files in layers are not supported');
      }
      let name = decodeString(buf, at, 100);
      const magic = buf.toString('latin1', at + 257, at + 263);
      if (magic === 'ustar\0' && buf[at + 345] !== 0) name = `${decodeString(buf, at + 345, 155)}/${name}`;
      let linkname = decodeString(buf, at + 157, 100);
      let uid = decodeNumber(buf, at + 108, 8, 'uid');
      let gid = decodeNumber(buf, at + 116, 8, 'gid');
      let mtime = decodeNumber(buf, at + 136, 12, 'mtime');
      let xattrs: Record<string, Buffer> | undefined;
      if (longName !== undefined) name = longName;
      if (longLink !== undefined) linkname = longLink;
      for (const [key, value] of pax) {
        if (key === 'path') name = value.toString('utf8');
        else if (key === 'linkpath') linkname = value.toString('utf8');
        else if (key === 'mtime') mtime = Math.max(0, paxTime(value.toString('latin1')));
        else if (key === 'size' || key === 'uid' || key === 'gid') {
          const n = Number(value.toString('latin1'));
          if (!Number.isFinite(n) || n < 0 || n > Number.MAX_SAFE_INTEGER) throw invalid(`bad PAX ${key}`);
          if (key === 'size') size = n;
          else if (key === 'uid') uid = n;
          else gid = n;
        } else if (key.startsWith('SCHILY.xattr.')) {
          xattrs ??= {};
          xattrs[key.slice('SCHILY.xattr.'.length)] = value;
        }
      }
      if (!Number.isSafeInteger(size)) throw invalid('bad entry size');
      const type = typesByFlag[typeflag] ?? 'other';
      // Only regular files (and unknown types, skipped by the caller) carry content.
      const hasContent = type === 'file' || type === 'other';
      this.#remaining = hasContent ? size : 0;
      this.#padding = hasContent ? (blockSize - (size % blockSize)) % blockSize : 0;
      if (type === 'dir' && name.endsWith('/')) name = name.slice(0, -1);
      return {
        name,
        type,
        typeflag,
        mode: decodeNumber(buf, at + 100, 8, 'mode') & 0o7777,
        uid,
        gid,
        size: hasContent ? size : 0,
        mtime,
        linkname,
        devmajor: decodeNumber(buf, at + 329, 8, 'devmajor'),
        devminor: decodeNumber(buf, at + 337, 8, 'devminor'),
        xattrs,
      };
    }
  }

  /** Consumes whatever follows the end of the archive (padding), so the source reaches its end. */
  async drain(): Promise<void> {
    this.#pos = this.#buf.length;
    while (await this.#more()) this.#pos = this.#buf.length;
  }

  /** Hands the current entry's content to `onChunk` in slices of the input (valid only during the call). */
  async readContent(onChunk: (chunk: Buffer) => void): Promise<void> {
    while (this.#remaining > 0) {
      if (this.#pos >= this.#buf.length && !(await this.#more()))
        throw invalid('tar stream ends inside a file');
      const k = Math.min(this.#remaining, this.#buf.length - this.#pos);
      onChunk(this.#buf.subarray(this.#pos, this.#pos + k));
      this.#pos += k;
      this.#remaining -= k;
      this.contentBytes += k;
    }
  }
}
