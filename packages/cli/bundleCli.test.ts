import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from './bundleCli.ts';

const run = promisify(execFile);
let dir: string;
let kiln: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-bundle-'));
  await bundleCli({ outdir: join(dir, 'dist'), logLevel: 'silent' });
  kiln = join(dir, 'dist/kiln.mjs');
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bundleCli', () => {
  it('is kiln.mjs and its chunks: no worker files, no piscina', async () => {
    const names = await readdir(join(dir, 'dist'));
    expect(names).toContain('kiln.mjs');
    expect(names.filter((name) => !name.endsWith('.mjs'))).toEqual([]);
    const code = (await Promise.all(names.map((name) => readFile(join(dir, 'dist', name), 'utf8')))).join(
      '\n',
    );
    expect(code).not.toContain('piscina');
    expect(code).not.toContain('new Worker(');
  });

  it('bundles only the undici the registry client uses, not fetch, WebSocket or the mocks', async () => {
    const names = (await readdir(join(dir, 'dist'))).filter((name) => name.endsWith('.mjs'));
    const code = (await Promise.all(names.map((name) => readFile(join(dir, 'dist', name), 'utf8')))).join(
      '\n',
    );
    expect(code).toContain('undici/lib/dispatcher/agent.js');
    expect(code).not.toContain('undici/lib/web/websocket');
    expect(code).not.toContain('undici/lib/mock/');
  });

  it('hashes a snapshot and compresses a layer from the bundle', async () => {
    const tree = join(dir, 'tree');
    for (let d = 0; d < 4; d++) await mkdir(join(tree, `d${d}`), { recursive: true });
    for (let i = 0; i < 1200; i++) await writeFile(join(tree, `d${i % 4}/f${i}`), `content ${i}`);
    const snapshot = await run(process.execPath, [
      kiln,
      'snapshot',
      tree,
      '--strategy',
      'full',
      '--threads',
      '2',
      '--json',
    ]);
    expect(JSON.parse(snapshot.stdout).stats.filesHashed).toBe(1200);

    const context = join(dir, 'context');
    await mkdir(context);
    await writeFile(join(context, 'big'), Buffer.alloc(3 << 20, 'k'));
    await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY big /big\n');
    const tar = join(dir, 'image.tar');
    await run(process.execPath, [kiln, 'build', '--context', context, '--no-push', '--tar-path', tar], {
      cwd: dir,
    });
    const { stdout } = await run('tar', ['-tf', tar]);
    expect(stdout).toContain('layer.tar');
  });

  it('loads the cloud SDKs and the git client of remote contexts from the bundle (only when used)', {
    timeout: 60_000,
  }, async () => {
    // Nothing listens on port 1: each context must get as far as its client's request.
    const env = {
      ...process.env,
      S3_ENDPOINT: 'http://127.0.0.1:1',
      AWS_ACCESS_KEY_ID: 'k',
      AWS_SECRET_ACCESS_KEY: 's',
      STORAGE_EMULATOR_HOST: 'http://127.0.0.1:1',
    };
    for (const context of ['s3://b/ctx.tar.gz', 'gs://b/ctx.tar.gz', 'git://127.0.0.1:1/repo.git']) {
      const failed = await run(
        process.execPath,
        [kiln, 'build', '--context', context, '--no-push', '--log-format', 'json'],
        {
          cwd: dir,
          env,
        },
      ).catch((error: { stdout: string }) => error);
      expect('stdout' in failed ? failed.stdout : '').toContain('"code":"CONTEXT_FETCH_FAILED"');
    }
  });
});
