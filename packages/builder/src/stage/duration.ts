import { KilnError } from '@kiln/errors';

const unitNs: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration (`30s`, `1m30s`, `500ms`) in nanoseconds, as HEALTHCHECK options are stored. */
export function parseDuration(text: string, flag: string): number {
  if (text === '0') return 0;
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    total += Number(match[1]) * (unitNs[match[2]!] ?? 0);
    matched = pattern.lastIndex;
  }
  if (matched !== text.length || text === '') {
    throw new KilnError('INVALID_DURATION', `HEALTHCHECK --${flag}="${text}" is not a duration`, {
      hint: 'e.g. 30s, 1m30s, 500ms',
    });
  }
  return Math.round(total);
}
