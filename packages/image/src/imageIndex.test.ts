import { describe, expect, it } from 'vitest';
import { indexMediaTypeFor, platformKey, platformOfConfig } from './imageIndex.ts';
import { MediaType } from './mediaTypes.ts';
import type { ImageConfig } from './types.ts';

const rootfs = { type: 'layers' as const, diff_ids: [] };

describe('indexMediaTypeFor', () => {
  it('is a Docker manifest list for Docker v2 manifests, an OCI index for OCI ones', () => {
    expect(indexMediaTypeFor([MediaType.dockerManifest, MediaType.dockerManifest])).toBe(
      MediaType.dockerManifestList,
    );
    expect(indexMediaTypeFor([MediaType.ociManifest, undefined])).toBe(MediaType.ociIndex);
  });

  it('is undefined when Docker and OCI manifests mix', () => {
    expect(indexMediaTypeFor([MediaType.ociManifest, MediaType.dockerManifest])).toBeUndefined();
  });
});

describe('platformOfConfig', () => {
  it('takes os, architecture, variant and os.version from the config', () => {
    const config = {
      os: 'windows',
      architecture: 'amd64',
      'os.version': '10.0.20348.2227',
      rootfs,
    } as ImageConfig;
    expect(platformOfConfig(config)).toEqual({
      os: 'windows',
      architecture: 'amd64',
      'os.version': '10.0.20348.2227',
    });
    expect(platformOfConfig({ os: 'linux', architecture: 'arm', variant: 'v7', rootfs })).toEqual({
      os: 'linux',
      architecture: 'arm',
      variant: 'v7',
    });
  });

  it('leaves out empty fields', () => {
    const config = { os: 'linux', architecture: 'amd64', variant: '', 'os.version': '', rootfs };
    expect(platformOfConfig(config as ImageConfig)).toEqual({ os: 'linux', architecture: 'amd64' });
  });
});

describe('platformKey', () => {
  it('treats arm64 without a variant as arm64/v8, and tells os versions apart', () => {
    expect(platformKey({ os: 'linux', architecture: 'arm64' })).toBe(
      platformKey({ os: 'linux', architecture: 'arm64', variant: 'v8' }),
    );
    expect(platformKey({ os: 'linux', architecture: 'arm', variant: 'v6' })).not.toBe(
      platformKey({ os: 'linux', architecture: 'arm', variant: 'v7' }),
    );
    expect(platformKey({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' })).not.toBe(
      platformKey({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.1' }),
    );
  });
});
