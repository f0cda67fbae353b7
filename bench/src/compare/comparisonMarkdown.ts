import type { BenchResults } from '../framework/resultsSchema.ts';
import { formatPercent, formatRatioRange } from '../report/formatFigures.ts';
import { markdownTable } from '../report/markdownTable.ts';
import type { RatioChartInput } from '../report/ratioChart.ts';
import type { CaseComparison, Comparison, RatioFigure, Verdict } from './compareResults.ts';

const VERDICT_TEXT: Record<Verdict, string> = {
  improved: '✅ improved',
  unchanged: 'unchanged',
  regressed: '❌ regressed',
  added: 'new case',
  removed: 'case removed',
};

/** One line naming a results file: its label or date, commit and machine. */
export function describeRun(results: BenchResults): string {
  const commit = results.environment.gitCommit?.slice(0, 10) ?? 'no commit';
  const name = results.label ?? results.createdAt.slice(0, 16).replace('T', ' ');
  return `${name} (${commit}, ${results.environment.cpuModel}, ${results.environment.cores} cores${results.options.quick ? ', quick' : ''})`;
}

export function comparisonMarkdown(comparison: Comparison, base: BenchResults, next: BenchResults): string {
  const lines = [
    '## Bench comparison',
    '',
    `- base: ${describeRun(base)}`,
    `- new: ${describeRun(next)}`,
    `- ${comparison.counts.improved} improved, ${comparison.counts.unchanged} unchanged, ${comparison.counts.regressed} regressed` +
      (comparison.counts.added + comparison.counts.removed > 0
        ? `, ${comparison.counts.added} new, ${comparison.counts.removed} removed`
        : ''),
    ...comparison.notes.map((note) => `- note: ${note}`),
    '',
    'Ratio = median time over the baseline’s median in the same run (below 1× is faster); the range is that of the per-round ratios.',
    '',
    ...markdownTable(
      [
        { title: 'suite' },
        { title: 'case' },
        { title: 'contender' },
        { title: 'vs baseline' },
        { title: 'base ratio', align: 'right' },
        { title: 'new ratio', align: 'right' },
        { title: 'change', align: 'right' },
        { title: 'verdict' },
      ],
      comparison.rows.map((row) => [
        row.suite,
        row.case,
        row.contender,
        row.baselineName,
        ratioCell(row.base),
        ratioCell(row.next),
        row.change === undefined ? '' : formatPercent(row.change, true),
        verdictCell(row),
      ]),
    ),
    ...(comparison.rows.length === 0 ? ['', '_Neither file holds any results._'] : []),
    '',
  ];
  return lines.join('\n');
}

function verdictCell(row: CaseComparison): string {
  return row.beyondThreshold ? `${VERDICT_TEXT[row.verdict]} (beyond threshold)` : VERDICT_TEXT[row.verdict];
}

function ratioCell(figure: RatioFigure | undefined): string {
  return figure ? formatRatioRange(figure.ratio, figure.low, figure.high) : '–';
}

export function comparisonChart(
  comparison: Comparison,
  base: BenchResults,
  next: BenchResults,
): RatioChartInput {
  return {
    title: 'Kiln bench: ratio to baseline, base vs new',
    series: [
      `base: ${base.label ?? base.environment.gitCommit?.slice(0, 10) ?? 'base'}`,
      `new: ${next.label ?? next.environment.gitCommit?.slice(0, 10) ?? 'new'}`,
    ],
    rows: comparison.rows.map((row) => ({
      label: `${row.suite} ${row.case}: ${row.contender}`,
      points: [row.base, row.next],
    })),
  };
}
