import { isKilnError } from '@kiln/errors';
import { type Descriptor, type Digest, MediaType, parseReference, sha256Digest } from '@kiln/image';
import { describe, expect, it } from 'vitest';
import { type IndexEntry, planIndex } from './createIndex.ts';

const digest = (text: string): Digest => sha256Digest(Buffer.from(text));
const entry = (source: string, descriptor: Partial<Descriptor> & { digest: Digest }): IndexEntry => ({
  source: parseReference(source),
  descriptor: { mediaType: MediaType.ociManifest, size: 100, ...descriptor },
});
const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64' };

function thrown(work: () => unknown) {
  try {
    work();
  } catch (error) {
    if (isKilnError(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('planIndex', () => {
  it('keeps one entry per digest, in source order, and hashes the exact bytes', () => {
    const planned = planIndex([
      entry('r/app:1-amd64', { digest: digest('a'), platform: amd64 }),
      entry('r/app:1-arm64', { digest: digest('b'), platform: arm64 }),
      entry('r/app:old', { digest: digest('a'), platform: amd64 }),
    ]);
    expect(planned.index.manifests.map((m) => m.digest)).toEqual([digest('a'), digest('b')]);
    expect(planned.mediaType).toBe(MediaType.ociIndex);
    expect(JSON.parse(planned.bytes.toString())).toEqual(planned.index);
    expect(planned.digest).toBe(sha256Digest(planned.bytes));
  });

  it('makes a Docker manifest list of Docker v2 manifests', () => {
    const docker = { mediaType: MediaType.dockerManifest };
    const planned = planIndex([
      entry('r/app:1-amd64', { ...docker, digest: digest('a'), platform: amd64 }),
      entry('r/app:1-arm64', { ...docker, digest: digest('b'), platform: arm64 }),
    ]);
    expect(planned.index.mediaType).toBe(MediaType.dockerManifestList);
  });

  it('refuses two images for one platform (arm64 and arm64/v8 are one), exit 2', () => {
    const error = thrown(() =>
      planIndex([
        entry('r/app:1-arm64', { digest: digest('a'), platform: arm64 }),
        entry('r/other:1', { digest: digest('b'), platform: { ...arm64, variant: 'v8' } }),
      ]),
    );
    expect(error.code).toBe('DUPLICATE_PLATFORM');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      `linux/arm64/v8 twice: r/app:1-arm64 (${digest('a')}) and r/other:1 (${digest('b')})`.replace(
        /r\//g,
        'index.docker.io/r/',
      ),
    );
  });

  it('lets attestation manifests (platform unknown/unknown) repeat', () => {
    const unknown = { os: 'unknown', architecture: 'unknown' };
    const annotations = { 'vnd.docker.reference.type': 'attestation-manifest' };
    const planned = planIndex([
      entry('r/app:1', { digest: digest('a'), platform: amd64 }),
      entry('r/app:1', { digest: digest('a-att'), platform: unknown, annotations }),
      entry('r/app:1', { digest: digest('b'), platform: arm64 }),
      entry('r/app:1', { digest: digest('b-att'), platform: unknown, annotations }),
    ]);
    expect(planned.index.manifests).toHaveLength(4);
  });

  it('refuses OCI and Docker manifests mixed, naming the sources, exit 2', () => {
    const error = thrown(() =>
      planIndex([
        entry('r/app:1-amd64', { digest: digest('a'), platform: amd64 }),
        entry('r/app:1-arm64', { mediaType: MediaType.dockerManifest, digest: digest('b'), platform: arm64 }),
      ]),
    );
    expect(error.code).toBe('MIXED_MANIFEST_TYPES');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('OCI manifests (index.docker.io/r/app:1-amd64)');
    expect(error.message).toContain('Docker v2 manifests (index.docker.io/r/app:1-arm64)');
  });
});
