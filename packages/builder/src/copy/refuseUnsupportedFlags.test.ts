import { type AddInstruction, type CopyInstruction, parseDockerfile } from '@kiln/dockerfile';
import { describe, expect, it } from 'vitest';
import { createTestBuilder } from '../testing/testBuild.ts';
import { refuseUnsupportedFlags } from './refuseUnsupportedFlags.ts';

function transfer(line: string): CopyInstruction | AddInstruction {
  const instruction = parseDockerfile(`FROM scratch\n${line}\n`).instructions[1];
  if (instruction?.kind !== 'COPY' && instruction?.kind !== 'ADD') throw new Error('not COPY/ADD');
  return instruction;
}

describe('refuseUnsupportedFlags', () => {
  it('refuses ADD --keep-git-dir by name', () => {
    for (const line of ['ADD --keep-git-dir=true x.tar /d/', 'ADD --keep-git-dir x.tar /d/']) {
      expect(() => refuseUnsupportedFlags(transfer(line), 'Dockerfile:2')).toThrow(
        expect.objectContaining({ code: 'UNSUPPORTED_FLAG' }),
      );
    }
  });

  it('lets --parents and an unset --keep-git-dir through', () => {
    for (const line of [
      'COPY --parents a /d/',
      'ADD --parents a /d/',
      'ADD --keep-git-dir=false x.tar /d/',
    ]) {
      expect(() => refuseUnsupportedFlags(transfer(line), 'Dockerfile:2')).not.toThrow();
    }
  });
});

describe('a build with ADD --keep-git-dir', () => {
  it('stops with UNSUPPORTED_FLAG instead of building something else', { timeout: 60_000 }, async () => {
    const builder = await createTestBuilder();
    try {
      for (const [name, line] of [['keep-git-dir', 'ADD --keep-git-dir=true dir/a.txt /out/']] as const) {
        await expect(
          builder.build(name, `FROM busybox\n${line}\n`, { 'dir/a.txt': 'a' }),
        ).rejects.toMatchObject({
          code: 'UNSUPPORTED_FLAG',
        });
      }
    } finally {
      await builder.dispose();
    }
  });
});
