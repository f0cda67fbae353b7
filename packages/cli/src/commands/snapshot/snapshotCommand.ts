import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type ChangeSet,
  deserializeSnapshot,
  diffSnapshots,
  type Snapshot,
  type SnapshotStrategyName,
  serializeSnapshot,
  takeSnapshot,
} from '@kiln/snapshot';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Output } from '../../output.ts';
import type { Reporter } from '../../reporter/createReporter.ts';
import {
  addReporterOptions,
  type ReporterFlags,
  reporterFor,
  reportResult,
} from '../../reporter/reporterOptions.ts';
import { formatSnapshotReport, type SnapshotReport } from './formatSnapshotReport.ts';

interface SnapshotFlags extends ReporterFlags {
  strategy: SnapshotStrategyName;
  threads?: number;
  save?: string;
  against?: string;
  ignorePath: string[];
  json?: boolean;
}

/** `kiln snapshot DIR`: snapshot a directory, optionally save it or diff it against a saved one. */
export function snapshotCommand(output: Output): Command {
  const command = new Command('snapshot')
    .description('Snapshot a directory and print a summary, or the changes since a saved snapshot.')
    .argument('<dir>', 'the directory to snapshot')
    .addOption(
      new Option('--strategy <name>', 'how to detect changes')
        .choices(['full', 'metadata', 'incremental'])
        .default('incremental'),
    )
    .option(
      '--threads <n>',
      'worker threads that hash files and, on big rescans, list directories (default: the available cores; 1: all on one thread)',
      parseThreads,
    )
    .option('--save <file>', 'write the snapshot to a file')
    .option('--against <file>', 'print the changes since a snapshot saved with --save')
    .option('--ignore-path <path>', 'leave out a path or glob (repeatable)', collect, [])
    .option('--json', 'print the report as JSON instead of text');
  return addReporterOptions(command).action(async (dir: string, flags: SnapshotFlags) => {
    const reporter = reporterFor(flags, output);
    await reportResult(reporter, async () => {
      const report = await runSnapshot(dir, flags, reporter);
      return {
        text: formatSnapshotReport(report, flags.json === true),
        fields: JSON.parse(formatSnapshotReport(report, true)) as Record<string, unknown>,
      };
    });
  });
}

async function runSnapshot(dir: string, flags: SnapshotFlags, reporter: Reporter): Promise<SnapshotReport> {
  const previous: Snapshot | undefined = flags.against
    ? deserializeSnapshot(await readFile(flags.against))
    : undefined;
  // One snapshot, so it starts (and stops) hash workers of its own.
  const snapshot = await takeSnapshot(dir, {
    strategy: flags.strategy,
    ignore: flags.ignorePath,
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
    onEvent: (event) => reporter.onEvent({ type: 'snapshot', event }),
    // A saved snapshot of another root would carry over wrong hashes.
    ...(previous !== undefined && previous.root === path.resolve(dir) ? { previous } : {}),
  });
  if (flags.save) await writeFile(flags.save, serializeSnapshot(snapshot));
  const changes: ChangeSet | undefined = previous ? diffSnapshots(previous, snapshot) : undefined;
  return {
    root: snapshot.root,
    strategy: flags.strategy,
    threads: flags.threads,
    stats: snapshot.stats,
    saved: flags.save,
    against: flags.against,
    changes,
  };
}

function parseThreads(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of threads');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
