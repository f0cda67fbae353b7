import { KilnError } from '@kiln/errors';
import { isDigest } from './digest.ts';
import { isIndexMediaType, isManifestMediaType } from './mediaTypes.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './types.ts';

type Json = Record<string, unknown>;

// Incoming JSON (registries, layouts, archives) is checked at the door so later code can trust the types;
// each error names the field and what was expected.

function asJson(input: unknown, code: string, what: string): Json {
  let value = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new KilnError(code, `${what} is not valid JSON`, { cause: error });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KilnError(code, `${what}: expected a JSON object`);
  }
  return value as Json;
}

function fail(code: string, what: string, field: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 80);
  throw new KilnError(code, `${what}: "${field}" must be ${expected}, got ${shown}`);
}

function checkStringMap(code: string, what: string, field: string, value: unknown): void {
  if (value === undefined) return;
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.values(value).some((v) => typeof v !== 'string')
  ) {
    fail(code, what, field, 'an object of strings', value);
  }
}

export function parseDescriptor(
  input: unknown,
  code = 'INVALID_DESCRIPTOR',
  what = 'descriptor',
): Descriptor {
  const d = asJson(input, code, what);
  if (typeof d.mediaType !== 'string' || d.mediaType === '') {
    fail(code, what, 'mediaType', 'a media type string', d.mediaType);
  }
  if (!isDigest(d.digest)) fail(code, what, 'digest', 'sha256: and 64 hex digits', d.digest);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    fail(code, what, 'size', 'a non-negative integer', d.size);
  }
  if (d.urls !== undefined && (!Array.isArray(d.urls) || d.urls.some((u) => typeof u !== 'string'))) {
    fail(code, what, 'urls', 'an array of strings', d.urls);
  }
  checkStringMap(code, what, 'annotations', d.annotations);
  if (d.platform !== undefined) {
    const p = asJson(d.platform, code, `${what} platform`);
    if (typeof p.architecture !== 'string')
      fail(code, what, 'platform.architecture', 'a string', p.architecture);
    if (typeof p.os !== 'string') fail(code, what, 'platform.os', 'a string', p.os);
  }
  return d as unknown as Descriptor;
}

/** An OCI image manifest or Docker schema 2 manifest; anything else (lists, schema 1) is refused. */
export function parseManifest(input: unknown): ImageManifest {
  const code = 'INVALID_MANIFEST';
  const m = asJson(input, code, 'image manifest');
  if (m.schemaVersion !== 2) fail(code, 'image manifest', 'schemaVersion', '2', m.schemaVersion);
  if (m.mediaType !== undefined && !isManifestMediaType(m.mediaType as string)) {
    const hint = isIndexMediaType(m.mediaType as string) ? ' (this is an index: pick a platform first)' : '';
    fail(code, 'image manifest', 'mediaType', `an OCI or Docker v2 manifest type${hint}`, m.mediaType);
  }
  parseDescriptor(m.config, code, 'image manifest config');
  if (!Array.isArray(m.layers)) fail(code, 'image manifest', 'layers', 'an array of descriptors', m.layers);
  m.layers.forEach((layer, i) => {
    parseDescriptor(layer, code, `image manifest layers[${i}]`);
  });
  checkStringMap(code, 'image manifest', 'annotations', m.annotations);
  return m as unknown as ImageManifest;
}

/** An OCI image index or Docker manifest list. */
export function parseIndex(input: unknown): ImageIndex {
  const code = 'INVALID_INDEX';
  const x = asJson(input, code, 'image index');
  if (x.schemaVersion !== 2) fail(code, 'image index', 'schemaVersion', '2', x.schemaVersion);
  if (x.mediaType !== undefined && !isIndexMediaType(x.mediaType as string)) {
    fail(code, 'image index', 'mediaType', 'an OCI index or Docker manifest list type', x.mediaType);
  }
  if (!Array.isArray(x.manifests))
    fail(code, 'image index', 'manifests', 'an array of descriptors', x.manifests);
  x.manifests.forEach((d, i) => {
    parseDescriptor(d, code, `image index manifests[${i}]`);
  });
  checkStringMap(code, 'image index', 'annotations', x.annotations);
  return x as unknown as ImageIndex;
}

export function parseImageConfig(input: unknown): ImageConfig {
  const code = 'INVALID_CONFIG';
  const c = asJson(input, code, 'image config');
  if (typeof c.architecture !== 'string')
    fail(code, 'image config', 'architecture', 'a string', c.architecture);
  if (typeof c.os !== 'string') fail(code, 'image config', 'os', 'a string', c.os);
  const rootfs = c.rootfs as Json | undefined;
  if (typeof rootfs !== 'object' || rootfs === null || rootfs.type !== 'layers') {
    fail(code, 'image config', 'rootfs.type', '"layers"', rootfs?.type);
  }
  if (!Array.isArray(rootfs.diff_ids) || rootfs.diff_ids.some((d) => !isDigest(d))) {
    fail(code, 'image config', 'rootfs.diff_ids', 'an array of sha256 digests', rootfs.diff_ids);
  }
  if (c.config !== undefined && c.config !== null) asJson(c.config, code, 'image config "config"');
  if (c.history !== undefined && !Array.isArray(c.history)) {
    fail(code, 'image config', 'history', 'an array', c.history);
  }
  return c as unknown as ImageConfig;
}
