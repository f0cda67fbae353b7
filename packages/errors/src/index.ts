export type { KilnErrorOptions } from './kilnError.ts';
export { isKilnError, KilnError } from './kilnError.ts';
