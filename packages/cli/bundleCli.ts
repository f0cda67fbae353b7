// The CLI as it ships (`npx kiln`, the executor image): one esbuild run into a flat directory.
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build, type Plugin } from 'esbuild';

const cliDir = import.meta.dirname;

export interface BundleCliOptions {
  /** Replaced by the bundle. */
  outdir: string;
  logLevel?: 'silent' | 'warning' | 'info';
}

/**
 * Bundles the CLI into `outdir`: kiln.mjs and the chunks it loads when a command needs them. No worker
 * files: Kiln starts no worker threads (hashing runs on the calling thread, gzip on libuv's pool).
 */
export async function bundleCli(options: BundleCliOptions): Promise<void> {
  const outdir = options.outdir;
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
    // Flat: each command's modules in chunks beside kiln.mjs, loaded when the command line names it.
    chunkNames: '[name]-[hash]',
    outdir,
    outExtension: { '.js': '.mjs' },
    logLevel: options.logLevel ?? 'warning',
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
    },
    plugins: [slimUndici()],
  });
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
