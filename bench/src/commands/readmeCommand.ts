import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readResults } from '../framework/readResults.ts';
import { headlineSection } from '../readme/headlineSection.ts';
import { performanceChart, performanceSection, type ResultsFile } from '../readme/performanceSection.ts';
import { HEADLINE_MARKERS, replaceBetweenMarkers } from '../readme/replaceBetweenMarkers.ts';
import { ratioChart } from '../report/ratioChart.ts';
import type { Output } from './output.ts';

export interface ReadmeCommandOptions {
  resultsDir: string;
  /** Gets the full generated tables (between the bench markers). */
  readme: string;
  chart: string;
  /** Gets the short headline table (between the headline markers), linking to `readme`. */
  headlineReadme?: string;
}

/** Regenerates the README's performance section and its chart from the committed results files. */
export async function readmeCommand(options: ReadmeCommandOptions, output: Output): Promise<void> {
  const readmeDir = path.dirname(path.resolve(options.readme));
  const names = (await readdir(options.resultsDir).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.json'))
    .sort();
  const files: ResultsFile[] = [];
  const paths: string[] = [];
  for (const name of names) {
    const file = path.join(options.resultsDir, name);
    paths.push(file);
    files.push({ link: linkFrom(readmeDir, file), results: await readResults(file) });
  }
  // With nothing measured yet there is nothing to draw; the section says so instead.
  if (files.length > 0) await writeFile(options.chart, ratioChart(performanceChart(files)));
  const section = performanceSection(files, linkFrom(readmeDir, options.chart));
  // Read as late as possible: others edit the README while the bench runs.
  const before = await readFile(options.readme, 'utf8');
  const after = replaceBetweenMarkers(before, section);
  if (after !== before) await writeFile(options.readme, after);
  if (options.headlineReadme !== undefined) {
    const headlineDir = path.dirname(path.resolve(options.headlineReadme));
    const headline = headlineSection(
      files.map((file, index) => ({ ...file, link: linkFrom(headlineDir, paths[index]!) })),
      linkFrom(headlineDir, options.readme),
    );
    const text = await readFile(options.headlineReadme, 'utf8');
    const updated = replaceBetweenMarkers(text, headline, HEADLINE_MARKERS);
    if (updated !== text) await writeFile(options.headlineReadme, updated);
    output.out(`${updated === text ? 'unchanged' : 'updated'}: ${options.headlineReadme} (headline)`);
  }
  output.out(
    `${after === before ? 'unchanged' : 'updated'}: ${options.readme} from ${files.length} results file(s)` +
      (files.length > 0 ? `, chart ${options.chart}` : ''),
  );
}

function linkFrom(dir: string, file: string): string {
  return path.relative(dir, path.resolve(file)).split(path.sep).join('/');
}
