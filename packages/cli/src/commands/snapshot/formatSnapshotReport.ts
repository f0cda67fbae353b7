import type { ChangeSet, SnapshotStats } from '@kiln/snapshot';
import { formatBytes, formatMs } from '../../reporter/formatting.ts';

export interface SnapshotReport {
  root: string;
  strategy: string;
  threads: number | undefined;
  stats: SnapshotStats;
  saved: string | undefined;
  against: string | undefined;
  changes: ChangeSet | undefined;
}

const kindLetter = { added: 'A', modified: 'M', deleted: 'D' } as const;

/** The summary line, then with --against one line per change (kind letter, path, why). */
export function formatSnapshotReport(report: SnapshotReport, json: boolean): string {
  if (json) {
    return JSON.stringify({
      root: report.root,
      strategy: report.strategy,
      stats: report.stats,
      ...(report.saved ? { saved: report.saved } : {}),
      ...(report.changes
        ? {
            against: report.against,
            changes: report.changes.changes.map(({ path, kind, reasons }) => ({
              path,
              kind,
              ...(reasons ? { reasons } : {}),
            })),
            opaqueDirs: report.changes.opaqueDirs,
          }
        : {}),
    });
  }
  const { stats } = report;
  const lines = [
    `${report.root}: ${stats.entries} entries, ${stats.filesHashed} files hashed (${formatBytes(stats.bytesHashed)}), ` +
      `${formatMs(stats.ms)} [${report.strategy}]`,
  ];
  if (report.saved) lines.push(`saved to ${report.saved}`);
  if (report.changes) {
    const count = (kind: 'added' | 'modified' | 'deleted') =>
      report.changes!.changes.filter((change) => change.kind === kind).length;
    lines.push(
      `since ${report.against}: ${count('added')} added, ${count('modified')} modified, ${count('deleted')} deleted`,
    );
    for (const change of report.changes.changes) {
      const why = change.reasons ? ` (${change.reasons.join(', ')})` : '';
      lines.push(`  ${kindLetter[change.kind]} ${change.path}${why}`);
    }
    for (const dir of report.changes.opaqueDirs) lines.push(`  O ${dir}/ (all previous contents replaced)`);
  }
  return `${lines.join('\n')}\n`;
}
