import { describe, expect, it } from 'vitest';
import { isKilnError, KilnError } from './kilnError.ts';

describe('KilnError', () => {
  it('carries code, hint, cause and exit code', () => {
    const cause = new Error('socket hang up');
    const error = new KilnError('REGISTRY_UNREACHABLE', 'cannot reach 127.0.0.1:5000', {
      hint: 'is the registry running?',
      cause,
      exitCode: 3,
    });
    expect(error.code).toBe('REGISTRY_UNREACHABLE');
    expect(error.hint).toBe('is the registry running?');
    expect(error.cause).toBe(cause);
    expect(error.exitCode).toBe(3);
    expect(isKilnError(error)).toBe(true);
    expect(isKilnError(cause)).toBe(false);
  });

  it('defaults to exit code 1 and no cause', () => {
    const error = new KilnError('X', 'y');
    expect(error.exitCode).toBe(1);
    expect('cause' in error).toBe(false);
  });
});
