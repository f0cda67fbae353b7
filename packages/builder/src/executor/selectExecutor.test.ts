import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExecutor, selectExecutorKind } from './selectExecutor.ts';

describe('selectExecutorKind', () => {
  it('auto is sandbox on a host and container inside the executor image', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-marker-'));
    try {
      const marker = join(dir, '.executor-image');
      expect(selectExecutorKind({ requested: 'auto', force: false, markerPath: marker })).toBe('sandbox');
      await writeFile(marker, '');
      expect(selectExecutorKind({ requested: 'auto', force: false, markerPath: marker })).toBe('container');
      expect(selectExecutorKind({ requested: 'sandbox', force: false, markerPath: marker })).toBe('sandbox');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses container mode outside the executor image unless forced', () => {
    const markerPath = '/nonexistent/kiln/.executor-image';
    expect(() => selectExecutorKind({ requested: 'container', force: false, markerPath })).toThrow(
      expect.objectContaining({ code: 'CONTAINER_EXECUTOR_REFUSED' }),
    );
    expect(selectExecutorKind({ requested: 'container', force: true, markerPath })).toBe('container');
  });
});

describe('createExecutor', () => {
  it('refuses a network of its own in container mode, which runs RUN in place', async () => {
    for (const network of ['none', 'sandbox'] as const) {
      await expect(createExecutor({ kind: 'container', workDir: tmpdir(), network })).rejects.toMatchObject({
        code: 'NETWORK_UNSUPPORTED',
      });
    }
  });
});
