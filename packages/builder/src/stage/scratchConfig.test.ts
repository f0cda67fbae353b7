import { describe, expect, it } from 'vitest';
import { createTestBuilder } from '../testing/testBuild.ts';
import { defaultPath } from './stageState.ts';

describe('FROM scratch', () => {
  it('starts from BuildKit’s empty image config: the default PATH and WorkingDir /', {
    timeout: 60_000,
  }, async () => {
    const builder = await createTestBuilder();
    try {
      const { config } = await builder.build('scratch-config', 'FROM scratch\nCOPY a.txt .\n', {
        'a.txt': 'a',
      });
      expect(config.config?.Env).toEqual([`PATH=${defaultPath}`]);
      expect(config.config?.WorkingDir).toBe('/');
    } finally {
      await builder.dispose();
    }
  });
});
