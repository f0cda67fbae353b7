import type { CaseResult } from '../framework/resultsSchema.ts';

/** `met ≤ 0.5×`, `MISSED ≤ 200 ms`, or just the note when the target has no bound to judge. */
export function targetText(target: CaseResult['target'], missed = 'missed'): string {
  if (!target) return '';
  const bounds = [
    target.maxRatio === undefined ? undefined : `≤ ${target.maxRatio}×`,
    target.minRatio === undefined ? undefined : `≥ ${target.minRatio}×`,
    target.maxMs === undefined ? undefined : `≤ ${target.maxMs} ms`,
  ].filter((b) => b !== undefined);
  if (bounds.length === 0 || target.met === undefined) return target.note ?? '';
  return `${target.met ? 'met' : missed} ${bounds.join(', ')}`;
}
