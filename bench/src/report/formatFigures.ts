/** How figures read in tables and charts: 3 significant digits, units that fit the size. */

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 1000) return `${significant(ms / 1000)} s`;
  if (ms >= 1) return `${significant(ms)} ms`;
  return `${significant(ms * 1000)} µs`;
}

export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${significant(ratio)}×` : '–';
}

export function formatRatioRange(ratio: number, low: number, high: number): string {
  return `${formatRatio(ratio)} (${significant(low)}–${significant(high)})`;
}

export function formatPercent(fraction: number, signed = false): string {
  if (!Number.isFinite(fraction)) return '–';
  const text = `${significant(Math.abs(fraction) * 100)}%`;
  if (fraction < 0) return `-${text}`;
  return signed && fraction > 0 ? `+${text}` : text;
}

export function significant(value: number): string {
  if (value === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return value.toFixed(Math.min(digits, 4));
}
