export type { CaseComparison, CompareOptions, Comparison, Verdict } from './compare/compareResults.ts';
export { compareResults } from './compare/compareResults.ts';
export type { MeasureCommandOptions } from './framework/measureCommand.ts';
export { measureCommand } from './framework/measureCommand.ts';
export { readResults } from './framework/readResults.ts';
export type {
  BenchEnvironment,
  BenchResults,
  CaseResult,
  ContenderStats,
} from './framework/resultsSchema.ts';
export { BENCH_SCHEMA_VERSION } from './framework/resultsSchema.ts';
export type { BenchEvent, RunBenchOptions } from './framework/runBench.ts';
export { runBench } from './framework/runBench.ts';
export type { BenchCase, Contender, Sample, Suite, SuiteContext } from './framework/suite.ts';
