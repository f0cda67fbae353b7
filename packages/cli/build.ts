// Bundles the CLI and the worker entry files into dist/ for `npx kiln` and the executor image.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: false,
  legalComments: 'none',
  define: { 'process.env.KILN_BUNDLE': '"1"' },
  // ESM bundles of CommonJS dependencies need a require of their own.
  banner: {
    js: "import { createRequire as __kilnRequire } from 'node:module'; const require = __kilnRequire(import.meta.url);",
  },
} as const;

const workers: Record<string, string> = {
  'layer-gzip': '../layer/src/worker/gzipWorker.ts',
  'snapshot-hash': '../snapshot/src/worker/hashWorker.ts',
};

await build({
  ...common,
  entryPoints: { kiln: 'src/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
});
if (Object.keys(workers).length > 0) {
  await build({ ...common, entryPoints: workers, outdir: 'dist/workers', outExtension: { '.js': '.mjs' } });
}
