import { describe, expect, it } from 'vitest';
import { kanikoEnvironment } from './kanikoEnvironment.ts';

describe('kanikoEnvironment', () => {
  it('adds KANIKO_REGISTRY_MIRROR and KANIKO_REGISTRY_MAP after the flags', () => {
    expect(
      kanikoEnvironment(['--registry-mirror=a'], {
        KANIKO_REGISTRY_MIRROR: 'mirror.example/hub',
        KANIKO_REGISTRY_MAP: 'gcr.io=m.example;quay.io=q.example',
      }),
    ).toEqual([
      '--registry-mirror=a',
      '--registry-mirror=mirror.example/hub',
      '--registry-map=gcr.io=m.example;quay.io=q.example',
    ]);
  });

  it('KANIKO_NO_PUSH overrides --no-push either way, with Go’s boolean spellings', () => {
    expect(kanikoEnvironment(['-d', 'r/x'], { KANIKO_NO_PUSH: 'true' })).toEqual(['-d', 'r/x', '--no-push']);
    expect(kanikoEnvironment(['--no-push'], { KANIKO_NO_PUSH: 'F' })).toEqual([]);
    expect(() => kanikoEnvironment([], { KANIKO_NO_PUSH: 'yes' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ENVIRONMENT' }),
    );
  });

  it('KANIKO_DIR applies unless --kaniko-dir is given', () => {
    expect(kanikoEnvironment([], { KANIKO_DIR: '/k' })).toEqual(['--kaniko-dir=/k']);
    expect(kanikoEnvironment(['--kaniko-dir=/x'], { KANIKO_DIR: '/k' })).toEqual(['--kaniko-dir=/x']);
  });
});
