import path from 'node:path';
import { parseArgs } from 'node:util';
import { KilnError } from '@kiln/errors';
import { compareCommand } from './commands/compareCommand.ts';
import type { Output } from './commands/output.ts';
import { readmeCommand } from './commands/readmeCommand.ts';
import { runCommand } from './commands/runCommand.ts';

const REPO_DIR = path.resolve(import.meta.dirname, '../..');

export const USAGE = `usage:
  pnpm bench [snapshot|layer|push|build|parse|all …] [--quick] [--runs N] [--json FILE] [--label TEXT]
  pnpm bench compare BASE.json NEW.json [--threshold PCT] [--noise-floor PCT] [--report-only] [--markdown FILE] [--svg FILE]
  pnpm bench readme [--results DIR] [--readme FILE] [--headline FILE] [--chart FILE]`;

/** Declares the commands and their flags; the commands do the work. */
export async function runCli(argv: string[], output: Output): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    output.out(USAGE);
    if (command === undefined) throw usageError('name a suite, all, compare or readme');
    return;
  }
  if (command === 'compare') {
    const { values, positionals } = parse(rest, {
      threshold: { type: 'string', default: '10' },
      'noise-floor': { type: 'string', default: '3' },
      'report-only': { type: 'boolean', default: false },
      markdown: { type: 'string' },
      svg: { type: 'string' },
    });
    if (positionals.length !== 2) throw usageError('compare takes two results files: BASE.json NEW.json');
    const options = {
      base: positionals[0]!,
      next: positionals[1]!,
      threshold: percent('--threshold', values.threshold as string),
      noiseFloor: percent('--noise-floor', values['noise-floor'] as string),
      reportOnly: values['report-only'] as boolean,
      ...(values.markdown === undefined ? {} : { markdown: values.markdown as string }),
      ...(values.svg === undefined ? {} : { svg: values.svg as string }),
    };
    return compareCommand(options, output);
  }
  if (command === 'readme') {
    const { values, positionals } = parse(rest, {
      results: { type: 'string', default: path.join(REPO_DIR, 'bench/results') },
      readme: { type: 'string', default: path.join(REPO_DIR, 'bench/README.md') },
      headline: { type: 'string', default: path.join(REPO_DIR, 'README.md') },
      chart: { type: 'string', default: path.join(REPO_DIR, 'bench/results/ratios.svg') },
    });
    if (positionals.length > 0) throw usageError(`readme takes no arguments, got ${positionals.join(' ')}`);
    return readmeCommand(
      {
        resultsDir: values.results as string,
        readme: values.readme as string,
        headlineReadme: values.headline as string,
        chart: values.chart as string,
      },
      output,
    );
  }
  const { values, positionals } = parse(argv, {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    json: { type: 'string', default: path.join(REPO_DIR, 'bench/out/latest.json') },
    label: { type: 'string' },
  });
  const quick = values.quick as boolean;
  const runs = values.runs === undefined ? (quick ? 3 : 5) : count('--runs', values.runs as string);
  const suites = await loadSuites();
  return runCommand(
    {
      names: positionals,
      quick,
      runs,
      json: values.json as string,
      ...(values.label === undefined ? {} : { label: values.label as string }),
      workRoot: path.join(REPO_DIR, 'bench/out/work'),
      fixturesDir: process.env.KILN_BENCH_FIXTURES ?? path.join(REPO_DIR, 'bench/out/fixtures'),
      repoDir: REPO_DIR,
      suites,
    },
    output,
  );
}

/** Imported here only, so a suite mid-edit cannot break compare or readme. */
async function loadSuites() {
  try {
    return (await import('./suites/index.ts')).suites;
  } catch (cause) {
    throw new KilnError(
      'BENCH_SUITES_UNLOADABLE',
      `cannot load the bench suites: ${(cause as Error).message}`,
      {
        cause,
        hint: 'a suite in bench/src/suites/ does not load; compare and readme still work',
      },
    );
  }
}

type Flags = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse(
  args: string[],
  options: Flags,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (cause) {
    // parseArgs explains `--` at length; the first sentence is the one-line error.
    throw usageError((cause as Error).message.split('. ')[0]!);
  }
}

function usageError(message: string): KilnError {
  return new KilnError('BENCH_USAGE', message, { hint: USAGE.split('\n')[1]?.trim(), exitCode: 2 });
}

function count(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw usageError(`${flag} needs a whole number ≥ 1, got "${text}"`);
  return value;
}

function percent(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw usageError(`${flag} needs a percentage ≥ 0, got "${text}"`);
  return value;
}
