import { createHash } from 'node:crypto';
import { KilnError } from '@kiln/errors';

/** A content digest as OCI writes it, e.g. `sha256:9f86d0…`. */
export type Digest = `sha256:${string}`;

const digestPattern = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && digestPattern.test(value);
}

export function parseDigest(value: string): Digest {
  if (!isDigest(value)) {
    throw new KilnError('INVALID_DIGEST', `invalid digest "${value}": expected sha256: and 64 hex digits`);
  }
  return value;
}

export function sha256Digest(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part of a digest, as used in blob paths. */
export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}
