import { describe, expect, it } from 'vitest';
import { MediaType } from './mediaTypes.ts';
import { parseDescriptor, parseImageConfig, parseIndex, parseManifest } from './validateImageJson.ts';

const digest = `sha256:${'a'.repeat(64)}`;
const descriptor = { mediaType: MediaType.ociLayerGzip, digest, size: 3 };
const manifest = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest, size: 2 },
  layers: [descriptor],
};

describe('image JSON validation', () => {
  it('accepts well-formed manifests, indexes and configs, from text or objects', () => {
    expect(parseManifest(JSON.stringify(manifest))).toEqual(manifest);
    expect(parseManifest(Buffer.from(JSON.stringify(manifest)))).toEqual(manifest);
    const index = {
      schemaVersion: 2,
      manifests: [{ ...descriptor, platform: { os: 'linux', architecture: 'arm64' } }],
    };
    expect(parseIndex(index)).toEqual(index);
    const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest] } };
    expect(parseImageConfig(config)).toEqual(config);
  });

  it('names the field and what was expected when refusing', () => {
    expect(() => parseManifest('{')).toThrowError(expect.objectContaining({ code: 'INVALID_MANIFEST' }));
    expect(() => parseManifest({ ...manifest, schemaVersion: 1 })).toThrowError(/schemaVersion/);
    expect(() => parseManifest({ ...manifest, mediaType: MediaType.ociIndex })).toThrowError(/index/);
    expect(() => parseManifest({ ...manifest, layers: [{ ...descriptor, size: -1 }] })).toThrowError(
      expect.objectContaining({
        code: 'INVALID_MANIFEST',
        message: expect.stringMatching(/layers\[0\].*size/),
      }),
    );
    expect(() => parseIndex({ schemaVersion: 2 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_INDEX' }),
    );
    expect(() =>
      parseImageConfig({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' } }),
    ).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/diff_ids/) }),
    );
    expect(() => parseDescriptor({ ...descriptor, digest: 'md5:x' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_DESCRIPTOR' }),
    );
  });
});
