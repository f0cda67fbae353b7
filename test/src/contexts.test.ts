import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runProcess } from '@kiln/fixtures/images';
import { createTlsFiles } from '@kiln/fixtures/registry';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusyboxRegistry, startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { type LocalServer, startFakeGcs, startFileServer, startGitHttpServer } from './contextServers.ts';
import { repoRoot } from './kilnProcess.ts';

/**
 * Every build context Kaniko takes, each fetched from a real server where one exists here (git
 * http-backend, s3rver, an HTTPS server with a private CA; a fake of GCS's download endpoint), built
 * through the CLI, and the context's files found in the image.
 */

let env: BusyboxRegistry;
const servers: LocalServer[] = [];
const mark = (name: string) => `${name}-${randomBytes(6).toString('hex')}`;
const marks = {
  note: mark('note'),
  dev: mark('dev'),
  pinned: mark('pinned'),
  lib: mark('lib'),
  sub: mark('sub'),
};
const dockerfile = 'ARG BASE\nFROM $BASE\nCOPY . /ctx/\n';
let tarball: Buffer;

beforeAll(async () => {
  env = await startBusyboxRegistry('kiln-e2e-contexts-');
  const ctx = join(env.work, 'ctx');
  await mkdir(join(ctx, 'app'), { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), dockerfile);
  await writeFile(join(ctx, 'note.txt'), marks.note);
  await writeFile(join(ctx, 'app/Dockerfile'), dockerfile);
  await writeFile(join(ctx, 'app/app.txt'), marks.dev);
  tarball = execFileSync('tar', ['-cz', '-C', ctx, '.']);
}, 120_000);
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await stopBusyboxRegistry(env ?? {});
});

interface Built {
  code: number | null;
  output: string;
  errorCode: string | undefined;
  /** The docker-archive: its layers are plain tar, so a context file's bytes show up in a search. */
  archive: string;
}

let builds = 0;
async function build(
  context: string,
  extra: string[] = [],
  vars: NodeJS.ProcessEnv = {},
  input?: Buffer,
  command: 'build' | 'executor' = 'build',
): Promise<Built> {
  const out = join(env.work, `out-${builds++}`);
  await mkdir(out, { recursive: true });
  const tarPath = join(out, 'image.tar');
  const args = [
    join(repoRoot, 'packages/cli/src/main.ts'),
    command,
    '--executor',
    'sandbox',
    '--context',
    context,
    '--no-push',
    '--tar-path',
    tarPath,
    '--insecure-registry',
    env.registry.host,
    '--build-arg',
    `BASE=${env.base.reference}`,
    '--log-format',
    'json',
    ...extra,
  ];
  const result = await runProcess(process.execPath, args, {
    cwd: out,
    env: { ...process.env, CI: '1', ...vars },
    timeoutMs: 240_000,
    ...(input ? { input } : {}),
  });
  const output = `${result.stdout}\n${result.stderr}`;
  const error = output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { type?: string; code?: string })
    .find((event) => event.type === 'error');
  const archive = result.code === 0 ? (await readFile(tarPath)).toString('latin1') : '';
  return { code: result.code, output, errorCode: error?.code, archive };
}

function expectBuilt(built: Built, present: string[], absent: string[] = []) {
  expect(built.code, built.output).toBe(0);
  for (const text of present) expect(built.archive.includes(text), `${text} in the image`).toBe(true);
  for (const text of absent) expect(built.archive.includes(text), `${text} not in the image`).toBe(false);
}

describe('tarball contexts', () => {
  it('tar://PATH and tar://stdin (and -) are unpacked; --context-sub-path picks a directory in them', {
    timeout: 180_000,
  }, async () => {
    const file = join(env.work, 'ctx.tar.gz');
    await writeFile(file, tarball);
    expectBuilt(await build(`tar://${file}`), [marks.note, marks.dev]);
    expectBuilt(await build('tar://stdin', [], {}, tarball), [marks.note]);
    expectBuilt(await build('-', ['--context-sub-path', 'app'], {}, tarball), [marks.dev], [marks.note]);
  });
});

describe('https contexts', () => {
  let server: LocalServer;
  let caFile: string;
  beforeAll(async () => {
    const tls = await createTlsFiles(await mkdirp(join(env.work, 'tls')));
    caFile = tls.caFile;
    server = await startFileServer(
      {
        '/ctx.tar.gz': tarball,
        '/Dockerfile.remote': 'ARG BASE\nFROM $BASE\nCOPY note.txt /via-remote-dockerfile/\n',
      },
      tls,
    );
    servers.push(server);
  }, 60_000);

  it('a tarball from an https URL, trusted through NODE_EXTRA_CA_CERTS; the Dockerfile from a URL too', {
    timeout: 180_000,
  }, async () => {
    const trusted = { NODE_EXTRA_CA_CERTS: caFile };
    expectBuilt(await build(`${server.url}/ctx.tar.gz`, [], trusted), [marks.note, 'ctx/app/app.txt']);
    const remote = await build(
      `${server.url}/ctx.tar.gz`,
      ['--dockerfile', `${server.url}/Dockerfile.remote`],
      trusted,
    );
    expectBuilt(remote, ['via-remote-dockerfile/note.txt'], ['ctx/app/app.txt']);
  });

  it('fails with CONTEXT_FETCH_FAILED naming the URL without its credentials', {
    timeout: 120_000,
  }, async () => {
    const untrusted = await build(`${server.url}/ctx.tar.gz`);
    expect(untrusted.errorCode, untrusted.output).toBe('CONTEXT_FETCH_FAILED');
    const missing = await build(
      `https://kiln:hunter2secret@${server.host}/missing.tar.gz?token=t0ps3cret`,
      [],
      {
        NODE_EXTRA_CA_CERTS: caFile,
      },
    );
    expect(missing.errorCode, missing.output).toBe('CONTEXT_FETCH_FAILED');
    expect(missing.output).toContain(`https://${server.host}/missing.tar.gz`);
    expect(missing.output).toContain('404');
    expect(missing.output).not.toMatch(/hunter2secret|t0ps3cret/);
  });
});

describe('git contexts (git http-backend)', () => {
  let server: LocalServer;
  const commits: Record<string, string> = {};
  const gitEnv = { GIT_PULL_METHOD: 'http' };
  beforeAll(async () => {
    const root = await mkdirp(join(env.work, 'git'));
    const git = (cwd: string, ...args: string[]) =>
      execFileSync(
        'git',
        ['-c', 'user.name=kiln', '-c', 'user.email=kiln@test', '-c', 'init.defaultBranch=main', ...args],
        {
          cwd,
          encoding: 'utf8',
        },
      ).trim();
    const lib = await mkdirp(join(root, 'lib-work'));
    await writeFile(join(lib, 'lib.txt'), marks.lib);
    git(lib, 'init', '-q');
    git(lib, 'add', '.');
    git(lib, 'commit', '-qm', 'lib');
    commits.lib = git(lib, 'rev-parse', 'HEAD');
    git(root, 'clone', '-q', '--bare', lib, 'lib.git');
    const main = await mkdirp(join(root, 'main-work'));
    git(main, 'init', '-q');
    await writeFile(join(main, 'Dockerfile'), dockerfile);
    await writeFile(join(main, 'note.txt'), marks.pinned);
    await mkdir(join(main, 'sub'));
    await writeFile(join(main, 'sub/Dockerfile'), dockerfile);
    await writeFile(join(main, 'sub/sub.txt'), marks.sub);
    git(main, 'add', '.');
    git(main, 'commit', '-qm', 'first');
    commits.first = git(main, 'rev-parse', 'HEAD');
    git(main, 'tag', 'v1');
    await writeFile(join(main, 'note.txt'), marks.note);
    // A submodule by relative URL, as most repositories write it.
    await writeFile(
      join(main, '.gitmodules'),
      '[submodule "lib"]\n\tpath = vendor/lib\n\turl = ../lib.git\n',
    );
    // An uninitialised submodule's directory, so `git add`/`commit -a` keep the gitlink.
    await mkdir(join(main, 'vendor/lib'), { recursive: true });
    git(main, 'add', '.');
    git(main, 'update-index', '--add', '--cacheinfo', `160000,${commits.lib},vendor/lib`);
    git(main, 'commit', '-qm', 'second');
    git(main, 'checkout', '-qb', 'dev');
    await writeFile(join(main, 'note.txt'), marks.dev);
    git(main, 'commit', '-qam', 'dev');
    git(main, 'checkout', '-q', 'main');
    git(root, 'clone', '-q', '--bare', main, 'main.git');
    server = await startGitHttpServer(root);
    servers.push(server);
  }, 60_000);

  it('clones the default branch, a #REF, a --git branch= tag and a #REF#COMMIT pin', {
    timeout: 240_000,
  }, async () => {
    const repo = `git://${server.host}/main.git`;
    expectBuilt(
      await build(repo, [], gitEnv),
      [marks.note],
      [marks.dev, marks.pinned, marks.lib, 'ctx/.git/'],
    );
    expectBuilt(
      await build(`${repo}#refs/heads/dev`, ['--git', 'single-branch=true'], gitEnv),
      [marks.dev],
      [marks.note],
    );
    expectBuilt(await build(repo, ['--git', 'branch=v1'], gitEnv), [marks.pinned], [marks.note]);
    expectBuilt(
      await build(`${repo}#refs/heads/main#${commits.first}`, [], gitEnv),
      [marks.pinned],
      [marks.note],
    );
  });

  it('takes the same context through `kiln executor`, Kaniko spellings and --context-sub-path included', {
    timeout: 120_000,
  }, async () => {
    const repo = `git://${server.host}/main.git#refs/heads/dev`;
    const built = await build(
      repo,
      ['--git=single-branch=true', '--context-sub-path=sub'],
      gitEnv,
      undefined,
      'executor',
    );
    expectBuilt(built, [marks.sub, 'ctx/sub.txt'], [marks.dev]);
    const whole = await build(repo, ['--git=single-branch=true'], gitEnv, undefined, 'executor');
    expectBuilt(whole, [marks.dev], [marks.note]);
  });

  it('checks out submodules with recurse-submodules=true (Kaniko README spelling, comma-separated)', {
    timeout: 180_000,
  }, async () => {
    const repo = `git://${server.host}/main.git`;
    expectBuilt(await build(repo, ['--git', 'branch=main,recurse-submodules=true'], gitEnv), [
      marks.note,
      marks.lib,
    ]);
  });

  it('authenticates with GIT_USERNAME/GIT_PASSWORD or GIT_TOKEN, and fails cleanly without', {
    timeout: 180_000,
  }, async () => {
    const forge = await startGitHttpServer(join(env.work, 'git'), {
      credentials: ['kiln:pa55word', 'tok3n:'],
    });
    servers.push(forge);
    const repo = `git://${forge.host}/main.git`;
    const withPassword = { ...gitEnv, GIT_USERNAME: 'kiln', GIT_PASSWORD: 'pa55word' };
    expectBuilt(await build(repo, [], withPassword), [marks.note]);
    expectBuilt(await build(repo, [], { ...gitEnv, GIT_TOKEN: 'tok3n' }), [marks.note]);
    const denied = await build(repo, [], { ...gitEnv, GIT_USERNAME: 'kiln', GIT_PASSWORD: 'wrong-pa55' });
    expect(denied.errorCode, denied.output).toBe('CONTEXT_FETCH_FAILED');
    expect(denied.output).not.toContain('wrong-pa55');
  });

  it('clones over https (the default pull method) trusting NODE_EXTRA_CA_CERTS, or --git insecure-skip-tls=true', {
    timeout: 180_000,
  }, async () => {
    const tls = await createTlsFiles(await mkdirp(join(env.work, 'git-tls')));
    const forge = await startGitHttpServer(join(env.work, 'git'), { tls });
    servers.push(forge);
    const repo = `git://${forge.host}/main.git`;
    const untrusted = await build(repo);
    expect(untrusted.errorCode, untrusted.output).toBe('CONTEXT_FETCH_FAILED');
    expectBuilt(await build(repo, [], { NODE_EXTRA_CA_CERTS: tls.caFile }), [marks.note]);
    expectBuilt(await build(repo, ['--git', 'insecure-skip-tls=true']), [marks.note]);
  });

  it('an unknown branch or repository fails with CONTEXT_FETCH_FAILED', { timeout: 120_000 }, async () => {
    const repo = `git://${server.host}/main.git`;
    expect((await build(repo, ['--git', 'branch=nope'], gitEnv)).errorCode).toBe('CONTEXT_FETCH_FAILED');
    expect((await build(`git://${server.host}/none.git`, [], gitEnv)).errorCode).toBe('CONTEXT_FETCH_FAILED');
  });
});

describe('bucket contexts', () => {
  it('s3:// from an S3-compatible server (s3rver) through S3_ENDPOINT, path style', {
    timeout: 180_000,
  }, async () => {
    const s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: await mkdirp(join(env.work, 's3')),
      configureBuckets: [{ name: 'ctx-bucket', configs: [] }],
    });
    const { port } = (await s3.run()) as { port: number };
    try {
      const endpoint = `http://127.0.0.1:${port}`;
      const put = await fetch(`${endpoint}/ctx-bucket/builds/ctx.tar.gz`, { method: 'PUT', body: tarball });
      expect(put.status).toBe(200);
      const vars = {
        S3_ENDPOINT: endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_REGION: 'us-east-1',
      };
      expectBuilt(await build('s3://ctx-bucket/builds/ctx.tar.gz', [], vars), [marks.note]);
      const missing = await build('s3://ctx-bucket/builds/none.tar.gz', [], vars);
      expect(missing.errorCode, missing.output).toBe('CONTEXT_FETCH_FAILED');
      expect(missing.output).toContain('s3://ctx-bucket/builds/none.tar.gz');
    } finally {
      await s3.close();
    }
  });

  it('gs:// through STORAGE_EMULATOR_HOST (a fake of the download endpoint only)', {
    timeout: 180_000,
  }, async () => {
    const gcs = await startFakeGcs({ 'ctx-bucket/builds/ctx.tar.gz': tarball });
    servers.push(gcs);
    const vars = { STORAGE_EMULATOR_HOST: gcs.url };
    const built = await build('gs://ctx-bucket/builds/ctx.tar.gz', [], vars);
    expectBuilt(built, [marks.note]);
    expect(gcs.requests.some((line) => line.includes('/b/ctx-bucket/o/builds%2Fctx.tar.gz?alt=media'))).toBe(
      true,
    );
    expect((await build('gs://ctx-bucket/none.tar.gz', [], vars)).errorCode).toBe('CONTEXT_FETCH_FAILED');
  });
});

async function mkdirp(dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}
