import type { AddInstruction, CopyInstruction } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';

/**
 * COPY/ADD flags Kiln parses but does not carry out: refused by name, never silently ignored,
 * since an image built without them would differ from BuildKit's without a word.
 */
export function refuseUnsupportedFlags(instruction: CopyInstruction | AddInstruction, where: string): void {
  if (instruction.options.parents) {
    throw new KilnError('UNSUPPORTED_FLAG', `${where}: ${instruction.kind} --parents is not supported yet`, {
      hint: 'copy each source to its full destination path instead',
    });
  }
  if (instruction.kind === 'ADD' && instruction.options.keepGitDir) {
    throw new KilnError(
      'UNSUPPORTED_FLAG',
      `${where}: ADD --keep-git-dir applies to a git source, and Kiln does not fetch git sources yet`,
      { hint: 'clone the repository in a RUN, or copy a checkout from the build context' },
    );
  }
}
