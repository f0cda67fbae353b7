import { KilnError } from '@kiln/errors';
import { maxProblemLength, printable } from './quoteForMessage.ts';

/** Codes of the ways a shell word can fail to expand. */
export type ShellExpansionErrorCode =
  | 'SHELL_UNTERMINATED_QUOTE'
  | 'SHELL_BAD_SUBSTITUTION'
  | 'SHELL_REQUIRED_VARIABLE'
  | 'SHELL_INVALID_PATTERN'
  | 'SHELL_EXPANSION_TOO_DEEP';

/** A word that cannot be expanded (unterminated quote, `${`, bad modifier, `${VAR:?msg}` unset). */
export class ShellExpansionError extends KilnError {
  constructor(code: ShellExpansionErrorCode, message: string) {
    // Messages quote the word (a modifier, `${VAR:?text}`): one line, and short.
    super(code, printable(message, maxProblemLength));
    this.name = 'ShellExpansionError';
  }
}
