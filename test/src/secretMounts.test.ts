import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusyboxRegistry, startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { runChecked, runKiln, unpackWithUmoci } from './kilnProcess.ts';

// RUN --mount=type=secret through the real CLI and the sandbox executor: the RUN reads the secret,
// and its bytes appear nowhere the build leaves anything (layers, config, cache, outputs, logs).
let env: BusyboxRegistry;

beforeAll(async () => {
  env = await startBusyboxRegistry('kiln-e2e-secrets-');
}, 120_000);
afterAll(() => stopBusyboxRegistry(env ?? {}));

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every regular file under a directory, recursively (contents concatenated with their paths). */
async function filesUnder(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const found: { path: string; bytes: Buffer }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.push({ path, bytes: await readFile(path) });
  }
  return found;
}

function holders(files: { path: string; bytes: Buffer }[], needles: string[]): string[] {
  return files
    .filter(({ bytes }) => needles.some((needle) => bytes.includes(needle)))
    .map(({ path }) => path);
}

/** Every entry name in every layer of the (uncompressed) image in an OCI layout. */
async function layoutLayerPaths(layout: string): Promise<string[]> {
  const blob = async (digest: string) => join(layout, 'blobs', ...digest.split(':'));
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const manifest = JSON.parse(await readFile(await blob(index.manifests[0]!.digest), 'utf8')) as {
    layers: { digest: string }[];
  };
  const paths: string[] = [];
  for (const layer of manifest.layers)
    paths.push(...(await runChecked('tar', ['-tf', await blob(layer.digest)])).split('\n'));
  return paths;
}

/** `kiln build` in the sandbox from `dir` on the test base, before each test's own flags. */
function sandboxBuild(dir: string): string[] {
  return [
    'build',
    '--executor',
    'sandbox',
    '--context',
    dir,
    '--build-arg',
    `BASE=${env.base.reference}`,
    '--insecure-registry',
    env.registry.host,
  ];
}

async function context(name: string, dockerfile: string): Promise<string> {
  const dir = join(env.work, name, 'context');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

describe('build secrets (sandbox executor)', () => {
  it('RUN reads file and env secrets; their bytes are in no layer, config, cache entry, output or log', {
    timeout: 240_000,
  }, async () => {
    const fileSecret = `file-secret-${randomBytes(12).toString('hex')}`;
    const envSecret = `env-secret-${randomBytes(12).toString('hex')}`;
    const secretFile = join(env.work, 'token.txt');
    await writeFile(secretFile, fileSecret);
    const dir = await context(
      'secrets',
      [
        'ARG BASE',
        'FROM $BASE',
        'RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -c1-64 > /file-hash && stat -c "%a %u %g" /run/secrets/tok > /file-mode',
        'RUN --mount=type=secret,id=tok,target=/etc/app/token,mode=0440,uid=12,gid=34 stat -c "%a %u %g" /etc/app/token > /custom-mode',
        'RUN --mount=type=secret,id=npm,env=NPM_TOKEN printf %s "$NPM_TOKEN" | sha256sum | cut -c1-64 > /env-hash; test -e /run/secrets/npm || echo no-file > /env-only',
        'RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && echo skipped > /optional',
        // A control: bytes a RUN does write into a layer are found by the same search.
        'RUN echo kiln-control-marker-$((6 * 7)) > /control',
        '',
      ].join('\n'),
    );
    const out = join(env.work, 'secrets', 'out');
    const cacheDir = join(env.work, 'secrets', 'cache');
    const trace = join(out, 'trace.json');
    await mkdir(out, { recursive: true });
    const args = [
      ...sandboxBuild(dir),
      '--destination',
      `${env.registry.host}/secrets/app:1`,
      '--cache',
      '--cache-repo',
      `${env.registry.host}/secrets/cache`,
      '--cache-dir',
      cacheDir,
      '--compression',
      'none',
      '--tar-path',
      join(out, 'image.tar'),
      '--oci-layout-path',
      join(out, 'layout'),
      '--trace',
      trace,
      '--log-format',
      'json',
      '--verbosity',
      'trace',
      '--secret',
      `id=tok,src=${secretFile}`,
      '--secret',
      'id=npm,env=NPM_SECRET_VALUE',
    ];
    const result = await runKiln(args, { NPM_SECRET_VALUE: envSecret });
    expect(result.code, result.stderr).toBe(0);

    // The RUNs saw both secrets, as BuildKit mounts them.
    const rootfs = await unpackWithUmoci(
      `docker://${env.registry.host}/secrets/app:1`,
      join(out, 'unpacked'),
    );
    const read = (path: string) => readFile(join(rootfs, path), 'utf8');
    expect((await read('file-hash')).trim()).toBe(sha(fileSecret));
    expect((await read('file-mode')).trim()).toBe('400 0 0');
    expect((await read('custom-mode')).trim()).toBe('440 12 34');
    expect((await read('env-hash')).trim()).toBe(sha(envSecret));
    expect((await read('env-only')).trim()).toBe('no-file');
    expect((await read('optional')).trim()).toBe('skipped');
    // No mount point, nor a directory Kiln made for one, is left in the image.
    await expect(stat(join(rootfs, 'run/secrets'))).rejects.toThrow();
    await expect(stat(join(rootfs, 'etc/app'))).rejects.toThrow();
    const layerPaths = await layoutLayerPaths(join(out, 'layout'));
    expect(layerPaths.length).toBeGreaterThan(5);
    expect(layerPaths.filter((path) => /run\/secrets|etc\/app/.test(path))).toEqual([]);

    // Nothing the build left anywhere holds either secret's bytes.
    const needles = [fileSecret, envSecret];
    const everywhere = [
      ...(await filesUnder(out)),
      ...(await filesUnder(cacheDir)),
      ...(await filesUnder(env.registry.storageDir)),
      { path: 'stdout', bytes: Buffer.from(result.stdout) },
      { path: 'stderr', bytes: Buffer.from(result.stderr) },
    ];
    expect(everywhere.length).toBeGreaterThan(10);
    expect(holders(everywhere, needles)).toEqual([]);
    expect(holders(everywhere, ['kiln-control-marker-42']).length).toBeGreaterThan(2);

    // The directory layer cache (no registry, no destination) holds none of it either.
    const dirCache = join(env.work, 'secrets', 'dir-cache');
    const local = await runKiln(
      [
        ...sandboxBuild(dir),
        '--no-push',
        '--cache',
        '--cache-dir',
        dirCache,
        '--compression',
        'none',
        '--secret',
        `id=tok,src=${secretFile}`,
        '--secret',
        'id=npm,env=NPM_SECRET_VALUE',
      ],
      { NPM_SECRET_VALUE: envSecret },
    );
    expect(local.code, local.stderr).toBe(0);
    const dirCacheFiles = await filesUnder(dirCache);
    expect(dirCacheFiles.length).toBeGreaterThan(3);
    expect(holders(dirCacheFiles, needles)).toEqual([]);

    // The second build is served by the cache: the secret is not part of what a hit needs.
    const again = await runKiln(args, { NPM_SECRET_VALUE: envSecret });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.match(/"step-cached"/g)?.length).toBe(5);
    expect(holders([{ path: 'stdout', bytes: Buffer.from(again.stdout) }], needles)).toEqual([]);
  });

  it('a required secret no --secret provides fails before any base is pulled', {
    timeout: 120_000,
  }, async () => {
    const dir = await context(
      'required',
      'ARG BASE\nFROM $BASE\nRUN echo first\nRUN --mount=type=secret,id=deploy_key,required=true cat /run/secrets/deploy_key\n',
    );
    const logBefore = (await stat(env.registry.logFile)).size;
    const result = await runKiln([...sandboxBuild(dir), '--no-push', '--log-format', 'json']);
    expect(result.code).toBe(2);
    const error = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { type: string; code?: string })
      .find((event) => event.type === 'error');
    expect(error?.code).toBe('SECRET_MISSING');
    const log = (await readFile(env.registry.logFile)).subarray(logBefore).toString();
    expect(log).not.toContain('/v2/');
  });
});

describe('ssh agent forwarding (sandbox executor)', () => {
  it('RUN --mount=type=ssh lists the key of a --ssh key file (a throwaway agent) and of $SSH_AUTH_SOCK', {
    timeout: 240_000,
  }, async () => {
    const work = join(env.work, 'ssh');
    const dir = await context(
      'ssh',
      [
        'ARG BASE',
        'FROM $BASE',
        'COPY agent-list /usr/local/bin/agent-list',
        'RUN --mount=type=ssh agent-list > /keys && echo "$SSH_AUTH_SOCK" > /sock-path && stat -c "%a %u" "$SSH_AUTH_SOCK" > /sock-mode',
        'USER 1000',
        'RUN --mount=type=ssh,id=deploy,target=/tmp/agent.sock,uid=1000 agent-list > /tmp/keys-as-user',
        'USER 0',
        'RUN test -z "$SSH_AUTH_SOCK" && test ! -e /run/buildkit && echo none > /no-agent',
        '',
      ].join('\n'),
    );
    // The RUN's `ssh-add -l`: a static agent client built here, since busybox has none.
    await runChecked('gcc', [
      '-static',
      '-O2',
      '-o',
      join(dir, 'agent-list'),
      join(import.meta.dirname, 'ssh/agentList.c'),
    ]);
    const key = join(work, 'id_ed25519');
    const comment = `kiln-test-key-${randomBytes(6).toString('hex')}`;
    await runChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', key]);
    const otherKey = join(work, 'other_ed25519');
    const otherComment = `kiln-other-key-${randomBytes(6).toString('hex')}`;
    await runChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', otherComment, '-f', otherKey]);
    // The caller's own agent, as a CI job or a developer shell has one.
    const agentSocket = join(work, 'agent.sock');
    const agentPid = Number(
      /SSH_AGENT_PID=(\d+)/.exec(await runChecked('ssh-agent', ['-s', '-a', agentSocket]))?.[1],
    );
    try {
      await runChecked('ssh-add', ['-q', otherKey], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
      const out = join(work, 'out');
      const agentDirs = async () => (await readdir(tmpdir())).filter((name) => name.startsWith('kiln-ssh-'));
      const agentDirsBefore = await agentDirs();
      const result = await runKiln(
        [
          ...sandboxBuild(dir),
          '--no-push',
          '--compression',
          'none',
          '--oci-layout-path',
          join(out, 'layout'),
          '--ssh',
          `default=${key}`,
          '--ssh',
          'deploy',
        ],
        { SSH_AUTH_SOCK: agentSocket },
      );
      expect(result.code, result.stderr).toBe(0);
      // The throwaway agent for the key file is gone with its socket.
      expect(await agentDirs()).toEqual(agentDirsBefore);
      const rootfs = await unpackWithUmoci(`oci:${join(out, 'layout')}`, join(out, 'unpacked'));
      const read = (path: string) => readFile(join(rootfs, path), 'utf8');
      expect(await read('keys')).toBe(`1 keys\n${comment}\n`);
      expect((await read('sock-path')).trim()).toBe('/run/buildkit/ssh_agent.0');
      expect((await read('sock-mode')).trim()).toBe('600 0');
      expect(await read('tmp/keys-as-user')).toBe(`1 keys\n${otherComment}\n`);
      expect((await read('no-agent')).trim()).toBe('none');
      const paths = await layoutLayerPaths(join(out, 'layout'));
      expect(paths.filter((path) => /run\/buildkit|agent\.sock/.test(path))).toEqual([]);
    } finally {
      process.kill(agentPid, 'SIGTERM');
    }
  });
});
