import type { AddInstruction, CopyInstruction } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';

/**
 * COPY/ADD flags Kiln parses but does not carry out (ADD --keep-git-dir: Kiln fetches no git
 * sources): refused by name, never silently ignored, since the image would differ from BuildKit's
 * without a word.
 */
export function refuseUnsupportedFlags(instruction: CopyInstruction | AddInstruction, where: string): void {
  if (instruction.kind === 'ADD' && instruction.options.keepGitDir) {
    throw new KilnError(
      'UNSUPPORTED_FLAG',
      `${where}: ADD --keep-git-dir applies to a git source, and Kiln does not fetch git sources yet`,
      { hint: 'clone the repository in a RUN, or copy a checkout from the build context' },
    );
  }
}
