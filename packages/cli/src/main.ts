#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

// The executor image ships V8's code cache for the bundle in compile-cache/ beside it, filled when
// the image is built: the CLI is then not compiled again in every pipeline's container. It only
// covers modules loaded after this call, hence the dynamic import below.
const compileCache = fileURLToPath(new URL('./compile-cache', import.meta.url));
if (existsSync(compileCache)) enableCompileCache({ directory: compileCache, portable: true });

const { runCli } = await import('./index.ts');
process.exitCode = await runCli(process.argv.slice(2));
