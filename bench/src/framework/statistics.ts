/** Order statistics for small sample sets (3–10 runs): medians and ranges, never means, because one slow run on a shared machine would drag a mean. */

export interface Summary {
  min: number;
  median: number;
  max: number;
  /** (max - min) / median: how far apart the runs landed, relative to the typical one. */
  spread: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0)
    return { min: Number.NaN, median: Number.NaN, max: Number.NaN, spread: Number.NaN };
  const min = Math.min(...values);
  const max = Math.max(...values);
  const mid = median(values);
  return { min, median: mid, max, spread: mid > 0 ? (max - min) / mid : 0 };
}

export interface RatioEstimate {
  /** median(contender) / median(baseline). */
  ratio: number;
  /** Range of the per-round ratios (contender run i / baseline run i), widened to contain `ratio`. */
  low: number;
  high: number;
}

/**
 * Each round runs the baseline and the contender back to back, so the per-round ratio cancels most of
 * the machine's drift; its range is the noise band compare uses for a verdict.
 */
export function estimateRatio(contender: readonly number[], baseline: readonly number[]): RatioEstimate {
  const ratio = median(contender) / median(baseline);
  const rounds = Math.min(contender.length, baseline.length);
  let low = ratio;
  let high = ratio;
  for (let i = 0; i < rounds; i++) {
    const b = baseline[i]!;
    if (b <= 0) continue;
    const r = contender[i]! / b;
    low = Math.min(low, r);
    high = Math.max(high, r);
  }
  return { ratio, low, high };
}
