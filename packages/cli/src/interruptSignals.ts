import { KilnError } from '@kiln/errors';

/**
 * An abort signal fired by SIGINT or SIGTERM, its reason the error the command then ends with
 * (exit 130 or 143). `dispose` removes the handlers.
 */
export function interruptSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) =>
    controller.abort(
      new KilnError('INTERRUPTED', `interrupted by ${signal}`, { exitCode: signal === 'SIGINT' ? 130 : 143 }),
    );
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
