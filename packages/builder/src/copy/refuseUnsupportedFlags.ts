import type { AddInstruction, CopyInstruction } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';

/**
 * COPY/ADD flags Kiln parses but does not carry out: refused by name, never silently ignored, since
 * the image would differ from BuildKit's without a word. ADD --keep-git-dir: isomorphic-git clones
 * without a checkout (Kiln writes the tree itself), so it has no index a `.git` for the repo's own
 * tools would need, and checking out would write through the repository's own symlinks.
 */
export function refuseUnsupportedFlags(instruction: CopyInstruction | AddInstruction, where: string): void {
  if (instruction.kind === 'ADD' && instruction.options.keepGitDir) {
    throw new KilnError(
      'UNSUPPORTED_FLAG',
      `${where}: ADD --keep-git-dir is not supported: Kiln copies a git source's tree without its .git`,
      { hint: 'drop --keep-git-dir, or clone the repository in a RUN', exitCode: 2 },
    );
  }
}
