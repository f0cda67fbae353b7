import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore, parseReference } from '@kiln/image';
import { createRegistryClient } from '@kiln/registry';
import { afterAll, describe, expect, it } from 'vitest';
import { openLayerCache } from './openLayerCache.ts';
import { RemoteBlobs } from './remoteBlobs.ts';

describe('openLayerCache', () => {
  const client = createRegistryClient({});
  const store = new BlobStore(join(tmpdir(), 'kiln-open-cache-store'));
  const remote = new RemoteBlobs(client, store);
  afterAll(() => client.close());
  const request = { enabled: true, push: true, runLayers: true, copyLayers: true };
  const open = (extra: object, destinations: string[] = []) => {
    const warnings: string[] = [];
    const opened = openLayerCache(
      { ...request, ...extra },
      {
        client,
        store,
        remote,
        destinations: destinations.map((d) => parseReference(d)),
        onWarning: (m) => warnings.push(m),
      },
    );
    return { ...opened, warnings };
  };

  it('picks --cache-repo, else <first destination>/cache, else --cache-dir, else none with a warning', () => {
    expect(open({ enabled: false }, ['r.example/app:1']).cache).toBeUndefined();
    expect(open({ repository: 'r.example/shared/cache' }, ['r.example/app:1']).repository?.repository).toBe(
      'shared/cache',
    );
    const fromDestination = open({ dir: '/unused' }, ['r.example/team/app:1', 'other.example/x:2']);
    expect(fromDestination.repository?.toString()).toContain('r.example/team/app/cache');
    expect(fromDestination.cache).toBeDefined();
    const local = open({ dir: join(tmpdir(), 'kiln-open-cache') });
    expect(local.cache).toBeDefined();
    expect(local.repository).toBeUndefined();
    const nowhere = open({});
    expect(nowhere.cache).toBeUndefined();
    expect(nowhere.warnings).toHaveLength(1);
  });
});
