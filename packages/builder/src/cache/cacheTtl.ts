import { KilnError } from '@kiln/errors';

const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Kaniko's default --cache-ttl: two weeks. */
export const defaultCacheTtlMs = 14 * unitMs.d!;

/** `--cache-ttl` in Go's duration syntax as Kaniko takes it (`336h`, `6h30m`, `90s`), plus `d`. */
export function parseCacheTtl(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const consumed = parts.map((part) => part[0]).join('');
  if (parts.length === 0 || consumed !== text) {
    throw new KilnError('INVALID_FLAG', `--cache-ttl "${text}" is not a duration`, {
      hint: 'e.g. 336h, 6h30m, 90s or 14d',
      exitCode: 2,
    });
  }
  return parts.reduce((total, part) => total + Number(part[1]) * unitMs[part[2]!]!, 0);
}
