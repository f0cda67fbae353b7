/**
 * The one error type Kiln's packages throw for anything a user can cause or fix.
 * `code` is stable (tests and scripts match on it); `hint` says what to do next;
 * `exitCode` is what the CLI exits with (a failing RUN passes its own through).
 */
export interface KilnErrorOptions {
  hint?: string;
  cause?: unknown;
  exitCode?: number;
}

export class KilnError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: string, message: string, options: KilnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KilnError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

export function isKilnError(value: unknown): value is KilnError {
  return value instanceof KilnError;
}
