// Sums the vitest JSON results this test run wrote in every workspace package into one closing
// line, `tests: N passed, N failed, N skipped`, so a CI log ends with the totals.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

const repo = join(import.meta.dirname, '..');
// Results older than this run (KILN_TEST_STARTED, seconds) are stale and left out.
const startedAt = Number(process.env.KILN_TEST_STARTED ?? 0) * 1000;
const folders = [
  'fixtures',
  'bench',
  'test',
  ...readdirSync(join(repo, 'packages')).map((name) => `packages/${name}`),
];
const totals = { passed: 0, failed: 0, skipped: 0 };
for (const folder of folders) {
  const file = join(repo, folder, '.vitest-results.json');
  if (!existsSync(file) || statSync(file).mtimeMs < startedAt) continue;
  const results = JSON.parse(readFileSync(file, 'utf8')) as VitestJson;
  totals.passed += results.numPassedTests;
  totals.failed += results.numFailedTests;
  totals.skipped += results.numPendingTests + results.numTodoTests;
}
process.stdout.write(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
