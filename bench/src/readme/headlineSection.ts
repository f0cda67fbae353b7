import type { CaseResult } from '../framework/resultsSchema.ts';
import { formatMs, formatRatioRange } from '../report/formatFigures.ts';
import { markdownTable } from '../report/markdownTable.ts';
import { latestRunPerSuite, type ResultsFile } from './performanceSection.ts';

/** The command whose results the headline shows (Kaniko from shared/peers/kaniko-peer.sh). */
export const headlineCommand =
  'KILN_BENCH_KANIKO_IMAGE=127.0.0.1:5055/peer/kaniko:executor KILN_BENCH_CASES=build-in-pod pnpm bench build --runs 3 --json bench/results/build-in-pod-<date>.json && pnpm bench build --json bench/results/build-full-<date>.json && pnpm bench readme';

const mib = (value: number | undefined) => (value === undefined ? '' : `${Math.round(value)} MiB`);

/**
 * The short table that opens the README's Performance section: Kiln's executor image against Kaniko
 * in pods (cold and fleet-warm, peak RSS), and Kiln against Buildah on a host, each from the latest
 * full run that measured it. Rows whose peer did not run are left out.
 */
export function headlineSection(files: ResultsFile[], fullTablesLink: string): string {
  const perSuite = latestRunPerSuite(files);
  const rows = perSuite.flatMap((suite) => suite.rows);
  const sources = [...new Set(perSuite.flatMap((suite) => suite.sources))].filter((file) =>
    file.results.results.some((row) => row.case.startsWith('build-')),
  );
  const find = (name: string, contender: string) =>
    rows.find((row) => row.case === name && row.contender === contender);
  const table: string[][] = [];
  const examples = [...new Set(rows.map((row) => row.case.split('/')[1] ?? ''))];
  for (const example of examples) {
    const cold = find(`build-in-pod/${example}`, 'kiln executor in pod, cold');
    if (cold && cold.baseline.name === 'kaniko in pod, cold') table.push(podRow(`${example}, cold`, cold));
    const fleet = find(`build-in-pod/${example}`, 'kiln executor in pod, fleet-warm');
    const kanikoFleet = find(`build-in-pod/${example}`, 'kaniko in pod, fleet-warm');
    if (fleet?.relativeTarget && kanikoFleet) {
      table.push([
        `${example}, fleet-warm`,
        'Kaniko in a pod',
        formatMs(fleet.median),
        formatMs(kanikoFleet.median),
        formatRatioRange(
          fleet.relativeTarget.ratio,
          fleet.relativeTarget.ratioLow,
          fleet.relativeTarget.ratioHigh,
        ),
        `${mib(fleet.peakRssMiB)} / ${mib(kanikoFleet.peakRssMiB)}`,
      ]);
    }
  }
  for (const example of examples) {
    for (const [name, contender, label] of [
      [`build-cold/${example}`, 'kiln cold', 'cold'],
      [`build-warm-fleet/${example}`, 'kiln warm (fresh machine)', 'fleet-warm'],
    ] as const) {
      const row = find(name, contender);
      if (!row) continue;
      table.push([
        `${example}, ${label}`,
        `${row.baseline.name} on a host`,
        formatMs(row.median),
        formatMs(row.baseline.median),
        formatRatioRange(row.ratio, row.ratioLow, row.ratioHigh),
        '',
      ]);
    }
  }
  if (table.length === 0)
    return `No results yet; the full tables are in [${fullTablesLink}](${fullTablesLink}).`;
  return [
    `Medians from one run each, every contender interleaved with its peer (ratio below 1× is faster; the range is that of the per-round ratios). Peak RSS is the container's (cgroup). Produced by:`,
    '',
    '```sh',
    headlineCommand,
    '```',
    '',
    ...markdownTable(
      [
        { title: 'build' },
        { title: 'against' },
        { title: 'Kiln', align: 'right' },
        { title: 'peer', align: 'right' },
        { title: 'Kiln / peer', align: 'right' },
        { title: 'peak RSS Kiln / peer' },
      ],
      table,
    ),
    '',
    `From ${sources
      .map(
        (file) =>
          `[${file.link}](${file.link}) (${file.results.createdAt.slice(0, 10)}, commit ${file.results.environment.gitCommit?.slice(0, 10) ?? 'unknown'}, load average ${file.results.environment.loadAverage.start} on ${file.results.environment.cores} cores)`,
      )
      .join(', ')}.`,
    '',
    `Every case, contender and target: [${fullTablesLink}](${fullTablesLink}).`,
  ].join('\n');
}

/** Kiln cold against its baseline, Kaniko cold. */
function podRow(label: string, kiln: CaseResult): string[] {
  return [
    label,
    'Kaniko in a pod',
    formatMs(kiln.median),
    formatMs(kiln.baseline.median),
    formatRatioRange(kiln.ratio, kiln.ratioLow, kiln.ratioHigh),
    `${mib(kiln.peakRssMiB)} / ${mib(kiln.baseline.peakRssMiB)}`,
  ];
}
