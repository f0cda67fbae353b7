import { KilnError } from '@kiln/errors';

/** Codes of the ways a shell word can fail to expand. */
export type ShellExpansionErrorCode =
  | 'SHELL_UNTERMINATED_QUOTE'
  | 'SHELL_BAD_SUBSTITUTION'
  | 'SHELL_REQUIRED_VARIABLE'
  | 'SHELL_INVALID_PATTERN';

/** A word that cannot be expanded (unterminated quote, `${`, bad modifier, `${VAR:?msg}` unset). */
export class ShellExpansionError extends KilnError {
  constructor(code: ShellExpansionErrorCode, message: string) {
    super(code, message);
    this.name = 'ShellExpansionError';
  }
}
