import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PushedImage, runProcess } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { runKiln, skopeoInspect, unpackWithUmoci } from './kilnProcess.ts';

let registry: TestRegistry;
let base: PushedImage;
let work: string;

beforeAll(async () => {
  ({ registry, base, work } = await startBusyboxRegistry('kiln-e2e-cache-'));
});
afterAll(() => stopBusyboxRegistry({ registry, work }));

// ARG LATE is declared just before the one step that uses it, so changing it re-runs only that step.
const dockerfile = `ARG BASE
FROM \${BASE}
ENV APP=/app
WORKDIR /app
COPY a.txt ./
RUN cat a.txt > a.copy
COPY b.txt ./
RUN cp b.txt b.copy
ARG LATE=one
RUN echo "late=$LATE" > late.txt
CMD ["cat", "/app/late.txt"]
`;

/** Replaces the context every build here reads (`work/context`) with `files`. */
async function freshContext(files: Record<string, string>): Promise<string> {
  const context = join(work, 'context');
  await rm(context, { recursive: true, force: true });
  await mkdir(context, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(context, name), content);
  return context;
}

interface BuildRun {
  code: number;
  stderr: string;
  digest: string;
  /** Instructions of the RUN steps that executed (not served by the cache). */
  executedRuns: string[];
  cachedSteps: number;
  warnings: string[];
  /** What the image-done event says was pushed. */
  pushed: unknown;
  /** The registry's access log lines written during this build. */
  log: string[];
}

async function build(options: { cacheDir: string; buildArgs?: string[] }): Promise<BuildRun> {
  const before = (await stat(registry.logFile)).size;
  const result = await runKiln([
    'build',
    '--context',
    join(work, 'context'),
    '--build-arg',
    `BASE=${base.reference}`,
    ...(options.buildArgs ?? []).flatMap((arg) => ['--build-arg', arg]),
    '--destination',
    `${registry.host}/cache-e2e/app:latest`,
    '--insecure-registry',
    registry.host,
    '--cache',
    '--cache-dir',
    options.cacheDir,
    '--reproducible',
    '--log-format',
    'json',
  ]);
  // The registry writes its access log line as it answers; give the last one a moment.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const log = (await readFile(registry.logFile)).subarray(before).toString('utf8').split('\n');
  const events = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const started = new Map<string, string>();
  const cached = new Set<string>();
  for (const event of events) {
    const id = `${event.stage}/${event.step}`;
    if (event.type === 'step-started') started.set(id, String(event.instruction));
    if (event.type === 'step-cached') cached.add(id);
  }
  const executedRuns = [...started]
    .filter(([id, instruction]) => instruction.startsWith('RUN') && !cached.has(id))
    .map(([, instruction]) => instruction);
  const resultEvent = events.find((event) => event.type === 'result');
  return {
    code: result.code,
    stderr: result.stderr + result.stdout,
    digest: String(resultEvent?.digest ?? ''),
    executedRuns,
    cachedSteps: cached.size,
    warnings: events.filter((event) => event.type === 'warning').map((event) => String(event.message)),
    pushed: events.find((event) => event.type === 'image-done')?.destinations,
    log,
  };
}

const blobUploads = (log: string[]) =>
  log.filter((line) => /"(PUT|PATCH) \/v2\/[^ ]+\/blobs\/uploads\//.test(line));
const blobDownloads = (log: string[], digests: string[]) =>
  log.filter(
    (line) => /"GET \/v2\/[^ ]+\/blobs\/sha256:/.test(line) && digests.some((d) => line.includes(d)),
  );

async function layerDigests(reference: string): Promise<string[]> {
  const raw = JSON.parse((await skopeoInspect(reference)).stdout) as { Layers: string[] };
  return raw.Layers;
}

describe('kiln build --cache against a real registry', () => {
  it('rebuilds from the registry cache: nothing re-run, extracted or uploaded; only changed steps re-run', {
    timeout: 600_000,
  }, async () => {
    const context = await freshContext({ Dockerfile: dockerfile, 'a.txt': 'alpha\n', 'b.txt': 'bravo\n' });
    const machine = join(work, 'machine-1');

    const cold = await build({ cacheDir: machine });
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.executedRuns).toHaveLength(3);
    expect(cold.warnings).toEqual([]);
    expect(blobUploads(cold.log).length).toBeGreaterThan(0);
    // The layers went to the cache repository once; the destination mounts them and uploads only its config.
    expect(blobUploads(cold.log).filter((line) => line.includes('/v2/cache-e2e/app/blobs/'))).toHaveLength(1);
    // The cache entries are in <destination>/cache, tagged by key.
    expect(
      cold.log.some((line) => /"PUT \/v2\/cache-e2e\/app\/cache\/manifests\/sha256-[0-9a-f]{64} /.test(line)),
    ).toBe(true);

    // Nothing changed: no RUN, no blob upload, no layer download, the same image.
    const warm = await build({ cacheDir: machine });
    expect(warm.code, warm.stderr).toBe(0);
    expect(warm.executedRuns).toEqual([]);
    // WORKDIR, both COPYs and the three RUNs are hits (metadata steps need no cache).
    expect(warm.cachedSteps).toBe(6);
    expect(warm.digest).toBe(cold.digest);
    expect(blobUploads(warm.log)).toEqual([]);
    const layers = await layerDigests(`${registry.host}/cache-e2e/app:latest`);
    expect(blobDownloads(warm.log, layers)).toEqual([]);

    // One COPY source changed: that COPY and every step after it re-run, the first RUN does not.
    await writeFile(join(context, 'b.txt'), 'bravo two\n');
    const changedCopy = await build({ cacheDir: machine });
    expect(changedCopy.code, changedCopy.stderr).toBe(0);
    expect(changedCopy.executedRuns).toEqual(['RUN cp b.txt b.copy', 'RUN echo "late=$LATE" > late.txt']);
    expect(changedCopy.digest).not.toBe(cold.digest);

    // A build arg only the last RUN sees: only that RUN re-runs.
    const changedArg = await build({ cacheDir: machine, buildArgs: ['LATE=two'] });
    expect(changedArg.code, changedArg.stderr).toBe(0);
    expect(changedArg.executedRuns).toEqual(['RUN echo "late=$LATE" > late.txt']);

    // Another machine of the fleet: empty --cache-dir and work dir, the registry cache only.
    const fleet = await build({ cacheDir: join(work, 'machine-2'), buildArgs: ['LATE=two'] });
    expect(fleet.code, fleet.stderr).toBe(0);
    expect(fleet.executedRuns).toEqual([]);
    expect(fleet.cachedSteps).toBe(6);
    expect(fleet.digest).toBe(changedArg.digest);
    expect(blobUploads(fleet.log)).toEqual([]);
    const fleetLayers = await layerDigests(`${registry.host}/cache-e2e/app:latest`);
    expect(blobDownloads(fleet.log, fleetLayers)).toEqual([]);

    // The image assembled from cached and re-run steps holds every step's files.
    const rootfs = await unpackWithUmoci(
      `docker://${registry.host}/cache-e2e/app:latest`,
      join(work, 'unpacked'),
    );
    expect(await readFile(join(rootfs, 'app/a.copy'), 'utf8')).toBe('alpha\n');
    expect(await readFile(join(rootfs, 'app/b.copy'), 'utf8')).toBe('bravo two\n');
    expect(await readFile(join(rootfs, 'app/late.txt'), 'utf8')).toBe('late=two\n');
  });

  it('a multi-stage build on a fresh machine reads neither stage’s layers: COPY --from hits on the stage’s key', {
    timeout: 600_000,
  }, async () => {
    await freshContext({
      Dockerfile:
        `ARG BASE\nFROM \${BASE} AS build\nCOPY a.txt /src/\nRUN tr a-z A-Z < /src/a.txt > /src/shout.txt\n` +
        `FROM \${BASE}\nCOPY --from=build /src/shout.txt /srv/\nRUN cat /srv/shout.txt > /srv/copy.txt\n`,
      'a.txt': 'multi\n',
    });
    const cold = await build({ cacheDir: join(work, 'multi-1') });
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.executedRuns).toHaveLength(2);

    const fleet = await build({ cacheDir: join(work, 'multi-2') });
    expect(fleet.code, fleet.stderr).toBe(0);
    expect(fleet.executedRuns).toEqual([]);
    expect(fleet.digest).toBe(cold.digest);
    expect(blobUploads(fleet.log)).toEqual([]);
    // The only blob read is the base's config (the first key is its manifest digest; its config is the image's).
    const baseManifest = JSON.parse(
      (await runProcess('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${base.reference}`]))
        .stdout,
    ) as { config: { digest: string } };
    const reads = fleet.log.filter((line) => /"GET \/v2\/[^ ]+\/blobs\/sha256:/.test(line));
    expect(reads.length).toBeGreaterThan(0);
    for (const line of reads) expect(line).toContain(baseManifest.config.digest);
  });

  it('cache entries pushed for a stage the image never shows carry no build-arg value', {
    timeout: 300_000,
  }, async () => {
    await freshContext({
      Dockerfile:
        `ARG BASE\nFROM \${BASE} AS fetch\nARG TOKEN\nRUN echo fetched > /got\nENV AUTH=$TOKEN\n` +
        `FROM \${BASE}\nCOPY --from=fetch /got /got\n`,
    });
    const secret = 'tok-5ecret-e2e';
    const run = await build({ cacheDir: join(work, 'secret-1'), buildArgs: [`TOKEN=${secret}`] });
    expect(run.code, run.stderr).toBe(0);
    // image-done names what was pushed (it used to say [] always).
    expect(run.pushed).toEqual([`${registry.host}/cache-e2e/app:latest`]);
    const repository = `${registry.url}/v2/cache-e2e/app/cache`;
    const { tags } = (await (await fetch(`${repository}/tags/list`)).json()) as { tags: string[] };
    expect(tags.length).toBeGreaterThanOrEqual(2);
    for (const tag of tags) {
      const manifest = await (
        await fetch(`${repository}/manifests/${tag}`, {
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
        })
      ).text();
      expect(manifest).not.toContain(secret);
      const { config } = JSON.parse(manifest) as { config: { digest: string } };
      expect(await (await fetch(`${repository}/blobs/${config.digest}`)).text()).not.toContain(secret);
    }
  });

  it('kiln warm fills --cache-dir: a later build downloads no base layer', { timeout: 300_000 }, async () => {
    const cacheDir = join(work, 'warmed');
    const warmed = await runKiln([
      'warm',
      base.reference,
      '--cache-dir',
      cacheDir,
      '--insecure-registry',
      registry.host,
    ]);
    expect(warmed.code, warmed.stderr).toBe(0);
    const raw = JSON.parse(
      (await runProcess('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${base.reference}`]))
        .stdout,
    ) as { layers: { digest: string }[] };
    for (const layer of raw.layers)
      expect((await stat(join(cacheDir, 'blobs', ...layer.digest.split(':')))).isFile()).toBe(true);

    const context = await freshContext({
      Dockerfile: `ARG BASE\nFROM \${BASE}\nRUN echo warmed > /warmed.txt\n`,
    });
    // A new destination, so a new cache repository: the RUN must execute on the base's files.
    const before = (await stat(registry.logFile)).size;
    const result = await runKiln([
      'build',
      '--context',
      context,
      '--build-arg',
      `BASE=${base.reference}`,
      '--destination',
      `${registry.host}/cache-e2e/warmed:latest`,
      '--insecure-registry',
      registry.host,
      '--cache',
      '--cache-dir',
      cacheDir,
    ]);
    expect(result.code, result.stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = (await readFile(registry.logFile)).subarray(before).toString('utf8').split('\n');
    expect(
      blobDownloads(
        log,
        raw.layers.map((layer) => layer.digest),
      ),
    ).toEqual([]);
  });
});
