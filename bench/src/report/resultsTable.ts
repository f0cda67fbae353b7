import type { CaseResult } from '../framework/resultsSchema.ts';
import { formatMs, formatPercent, formatRatioRange, significant } from './formatFigures.ts';
import { rowTargetText } from './targetText.ts';

/** Plain-text table of one case's rows, baseline first, for the terminal and CI logs. */
export function resultsTable(rows: CaseResult[]): string {
  const first = rows[0];
  if (!first) return '';
  const header = [
    'contender',
    'median',
    'min–max',
    'spread',
    'ratio (range)',
    'throughput',
    'peak RSS',
    'target',
  ];
  const baseline = first.baseline;
  const lines: string[][] = [
    header,
    [
      `${baseline.name} (baseline)`,
      formatMs(baseline.median),
      `${formatMs(baseline.min)}–${formatMs(baseline.max)}`,
      formatPercent(baseline.spread),
      '1×',
      throughput(baseline),
      rss(baseline),
      '',
    ],
    ...rows.map((row) => [
      row.contender,
      formatMs(row.median),
      `${formatMs(row.min)}–${formatMs(row.max)}`,
      formatPercent(row.spread),
      formatRatioRange(row.ratio, row.ratioLow, row.ratioHigh),
      throughput(row),
      rss(row),
      rowTargetText(row, 'MISSED'),
    ]),
  ];
  const widths = header.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  return lines
    .map((line) =>
      line
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function throughput(stats: { mbPerSec?: number; filesPerSec?: number }): string {
  const parts: string[] = [];
  if (stats.mbPerSec !== undefined) parts.push(`${significant(stats.mbPerSec)} MB/s`);
  if (stats.filesPerSec !== undefined) parts.push(`${significant(stats.filesPerSec)} files/s`);
  return parts.join(', ');
}

function rss(stats: { peakRssMiB?: number; rssSource?: string }): string {
  if (stats.peakRssMiB === undefined) return '';
  // The in-process figure is only the growth during the run; mark it so it is not read as a peak.
  return stats.rssSource === 'process'
    ? `${significant(stats.peakRssMiB)} MiB`
    : `+${significant(stats.peakRssMiB)} MiB`;
}
