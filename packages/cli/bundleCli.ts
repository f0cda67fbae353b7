// The CLI as it ships (`npx kiln`, the executor image): one esbuild run into a flat directory.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from '@kiln/errors';
import { hashWorkerEntry } from '@kiln/snapshot';
import { build, type Plugin } from 'esbuild';

/** Every worker file a pool starts, by its name in the bundle: the one list of them. */
export const workerEntries: readonly { name: string; source: URL }[] = [
  { name: 'workers/snapshot-hash', source: hashWorkerEntry },
];

const cliDir = import.meta.dirname;

export interface BundleCliOptions {
  /** Replaced by the bundle. */
  outdir: string;
  logLevel?: 'silent' | 'warning' | 'info';
}

/**
 * Bundles the CLI, piscina's worker and the worker entries into `outdir`: kiln.mjs, worker.js,
 * workers/*.mjs and the shared chunks beside them.
 */
export async function bundleCli(options: BundleCliOptions): Promise<void> {
  // piscina starts its own worker.js from next to its code (`__dirname/worker.js`); that worker
  // then imports our task files. One esbuild run with code splitting keeps a single piscina
  // module shared by the CLI and the task files (two copies disagree on the transfer markers).
  const piscinaMain = createRequire(new URL('../layer/package.json', import.meta.url)).resolve('piscina');
  const outdir = options.outdir;
  const rewritten = new Set<string>();
  await rm(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: cliDir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: false,
    legalComments: 'none',
    splitting: true,
    // Flat: piscina's code (in a chunk) looks for worker.js in its own directory, and the pools'
    // code (in kiln.mjs or a chunk) finds workers/ beside it.
    chunkNames: '[name]-[hash]',
    outdir,
    outExtension: { '.js': '.mjs' },
    logLevel: options.logLevel ?? 'warning',
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
      kiln: join(cliDir, 'src/main.ts'),
      worker: join(dirname(piscinaMain), 'worker.js'),
      ...Object.fromEntries(workerEntries.map(({ name, source }) => [name, fileURLToPath(source)])),
    },
    plugins: [workerEntryUrls(rewritten), slimUndici()],
  });
  const missing = workerEntries.filter(({ name }) => !rewritten.has(name));
  if (missing.length > 0) {
    const names = missing.map(({ source }) => relative(cliDir, fileURLToPath(source)));
    throw new KilnError(
      'CLI_BUNDLE_WORKER_MISSING',
      `no new URL(…, import.meta.url) names ${names.join(', ')}`,
      {
        hint: 'a pool names its worker entry in that form; without it the bundled CLI could not start the worker',
      },
    );
  }
  // piscina asks for `worker.js` by that name; the package.json makes it load as ESM.
  await rename(join(outdir, 'worker.mjs'), join(outdir, 'worker.js'));
  await writeFile(join(outdir, 'package.json'), '{ "type": "module" }\n');
}

/**
 * `undici` as Kiln uses it (Agent, EnvHttpProxyAgent, buildConnector, request): undici's own index
 * also loads fetch, WebSocket, the mocks and the caches, and with them webcrypto and web streams,
 * about 40 ms of every start of the CLI for code no command runs.
 */
function slimUndici(): Plugin {
  const undiciDir = dirname(
    createRequire(new URL('../registry/package.json', import.meta.url)).resolve('undici'),
  );
  const lib = (path: string) => JSON.stringify(join(undiciDir, 'lib', path));
  const contents = `'use strict';
const Dispatcher = require(${lib('dispatcher/dispatcher.js')});
const api = require(${lib('api/index.js')});
Object.assign(Dispatcher.prototype, api);
const errors = require(${lib('core/errors.js')});
const util = require(${lib('core/util.js')});
const { getGlobalDispatcher } = require(${lib('global.js')});
// undici's request(url, opts): the dispatcher's request with origin and path taken from the URL.
function request(url, opts) {
  if (!url || (typeof url !== 'string' && typeof url !== 'object')) {
    throw new errors.InvalidArgumentError('invalid url');
  }
  if (opts != null && typeof opts !== 'object') throw new errors.InvalidArgumentError('invalid opts');
  const options = opts ?? (typeof url === 'object' ? url : {});
  const parsed = options.path != null
    ? new URL(util.parseOrigin(url).origin + (options.path.startsWith('/') ? options.path : '/' + options.path))
    : util.parseURL(url);
  const { dispatcher = getGlobalDispatcher() } = options;
  return api.request.call(dispatcher, {
    ...options,
    origin: parsed.origin,
    path: parsed.search ? parsed.pathname + parsed.search : parsed.pathname,
    method: options.method || (options.body ? 'PUT' : 'GET'),
  });
}
module.exports = {
  Agent: require(${lib('dispatcher/agent.js')}),
  EnvHttpProxyAgent: require(${lib('dispatcher/env-http-proxy-agent.js')}),
  buildConnector: require(${lib('core/connect.js')}),
  Dispatcher,
  errors,
  request,
};
`;
  return {
    name: 'kiln-slim-undici',
    setup(bundle) {
      bundle.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici', namespace: 'kiln-slim-undici' }));
      bundle.onLoad({ filter: /.*/, namespace: 'kiln-slim-undici' }, () => ({
        contents,
        loader: 'js',
        resolveDir: undiciDir,
      }));
    },
  };
}

const urlExpression = /new URL\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/**
 * A package names its worker as `new URL('./worker/x.ts', import.meta.url)`; in the bundle that code
 * sits in a chunk at the top of `outdir`, so the expression is rewritten to the bundled file
 * (`./workers/<name>.mjs`). Entries whose expression was found are added to `rewritten`.
 */
function workerEntryUrls(rewritten: Set<string>): Plugin {
  const byPath = new Map(workerEntries.map(({ name, source }) => [fileURLToPath(source), name]));
  return {
    name: 'kiln-worker-entries',
    setup(bundle) {
      bundle.onLoad({ filter: /\.ts$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const contents = text.replace(urlExpression, (expression, _quote, specifier: string) => {
          const name = byPath.get(join(dirname(args.path), specifier));
          if (name === undefined) return expression;
          rewritten.add(name);
          return `new URL(${JSON.stringify(`./${name}.mjs`)}, import.meta.url)`;
        });
        return { contents, loader: 'ts' };
      });
    },
  };
}
