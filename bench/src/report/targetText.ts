import type { CaseResult } from '../framework/resultsSchema.ts';

/**
 * `met ≤ 0.5×`, `MISSED ≤ 200 ms`, or just the note when the target has no bound to judge; a row's
 * relative target follows: `met ≤ 0.625× of kiln full ×1 (0.52×)`.
 */
export function rowTargetText(row: Pick<CaseResult, 'target' | 'relativeTarget'>, missed = 'missed'): string {
  return [targetText(row.target, missed), relativeTargetText(row.relativeTarget, missed)]
    .filter((text) => text !== '')
    .join('; ');
}

function relativeTargetText(target: CaseResult['relativeTarget'], missed: string): string {
  if (!target) return '';
  const text = targetText(target, missed);
  const measured = `${bound(target.ratio)}×`;
  return target.met === undefined
    ? `${text} (${measured} of ${target.against})`
    : `${text} of ${target.against} (${measured})`;
}

export function targetText(target: CaseResult['target'], missed = 'missed'): string {
  if (!target) return '';
  const bounds = [
    target.maxRatio === undefined ? undefined : `≤ ${bound(target.maxRatio)}×`,
    target.minRatio === undefined ? undefined : `≥ ${bound(target.minRatio)}×`,
    target.maxMs === undefined ? undefined : `≤ ${target.maxMs} ms`,
  ].filter((b) => b !== undefined);
  if (bounds.length === 0 || target.met === undefined) return target.note ?? '';
  return `${target.met ? 'met' : missed} ${bounds.join(', ')}`;
}

/** A bound written as `1 / 3` in a suite reads as 0.333, not 0.3333333333333333. */
function bound(value: number): string {
  return String(Number(value.toPrecision(3)));
}
