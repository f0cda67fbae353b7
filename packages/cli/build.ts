// Bundles the CLI and the worker entry files into dist/ for `npx kiln` and the executor image.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

// piscina starts its own worker.js from next to its code (`__dirname/worker.js`); that worker
// then imports our task files. One esbuild run with code splitting keeps a single piscina
// module shared by the CLI and the task files (two copies disagree on the transfer markers).
const piscinaMain = createRequire(new URL('../layer/package.json', import.meta.url)).resolve('piscina');
const piscinaWorker = join(dirname(piscinaMain), 'worker.js');

rmSync('dist', { recursive: true, force: true });
await build({
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: false,
  legalComments: 'none',
  splitting: true,
  // Flat: piscina's code (in a chunk) looks for worker.js in its own directory.
  chunkNames: '[name]-[hash]',
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  define: { 'process.env.KILN_BUNDLE': '"1"' },
  // An optional native module piscina tries to load for thread priorities.
  external: ['@napi-rs/nice'],
  // ESM bundles of CommonJS code need require, __filename and __dirname of their own.
  banner: {
    js: [
      "import { createRequire as __kilnRequire } from 'node:module';",
      "import { fileURLToPath as __kilnFileURLToPath } from 'node:url';",
      'const require = __kilnRequire(import.meta.url);',
      'const __filename = __kilnFileURLToPath(import.meta.url);',
      "const __dirname = __kilnFileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  entryPoints: {
    kiln: 'src/main.ts',
    worker: piscinaWorker,
    'workers/layer-gzip': '../layer/src/worker/gzipWorker.ts',
    'workers/snapshot-hash': '../snapshot/src/worker/hashWorker.ts',
  },
});
// piscina asks for `worker.js` by that name; the package.json makes it load as ESM.
renameSync('dist/worker.mjs', 'dist/worker.js');
writeFileSync('dist/package.json', '{ "type": "module" }\n');
