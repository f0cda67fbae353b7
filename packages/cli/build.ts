// Bundles the CLI and the worker entry files into dist/ for `npx kiln` and the executor image.
import { fileURLToPath } from 'node:url';
import { bundleCli } from './bundleCli.ts';

await bundleCli({ outdir: fileURLToPath(new URL('dist', import.meta.url)) });
