import { describe, expect, it } from 'vitest';
import { createTestBuilder } from '../testing/testBuild.ts';

describe('ADD of a git source over a protocol other than http(s)', () => {
  it('is refused by name, not taken for a path or a download', { timeout: 60_000 }, async () => {
    const builder = await createTestBuilder();
    try {
      for (const source of [
        'git@example.invalid:org/repo.git#main',
        'ssh://example.invalid/repo.git',
        'git://example.invalid/repo',
      ]) {
        await expect(
          builder.build('git-protocols', `FROM scratch\nADD ${source} /src\n`, {}),
        ).rejects.toMatchObject({
          code: 'UNSUPPORTED_ADD_SOURCE',
          exitCode: 2,
        });
      }
    } finally {
      await builder.dispose();
    }
  });
});
