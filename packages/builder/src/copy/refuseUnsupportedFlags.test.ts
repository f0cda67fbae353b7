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
  it('refuses COPY --parents, ADD --parents and ADD --keep-git-dir by name', () => {
    for (const line of [
      'COPY --parents a/b /d/',
      'ADD --parents a/b /d/',
      'ADD --keep-git-dir=true x.tar /d/',
    ]) {
      expect(() => refuseUnsupportedFlags(transfer(line), 'Dockerfile:2')).toThrow(
        expect.objectContaining({ code: 'UNSUPPORTED_FLAG' }),
      );
    }
  });

  it('lets the flags through when they are off', () => {
    for (const line of ['COPY a /d/', 'ADD --parents=false a /d/', 'ADD --keep-git-dir=false x.tar /d/']) {
      expect(() => refuseUnsupportedFlags(transfer(line), 'Dockerfile:2')).not.toThrow();
    }
  });
});

describe('a build with ADD --parents or ADD --keep-git-dir', () => {
  it('stops with UNSUPPORTED_FLAG instead of building something else', { timeout: 60_000 }, async () => {
    const builder = await createTestBuilder();
    try {
      for (const [name, line] of [
        ['add-parents', 'ADD --parents dir/a.txt /out/'],
        ['keep-git-dir', 'ADD --keep-git-dir=true dir/a.txt /out/'],
      ] as const) {
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
