import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bundleCli } from '@kiln/cli/bundle';
import { KilnError } from '@kiln/errors';
import {
  ensureBusyboxImage,
  ensureDebianImage,
  ensureNodeImage,
  machineNpmConfig,
  type PushedImage,
} from '@kiln/fixtures/images';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { measureCommand } from '../framework/measureCommand.ts';
import type { BenchCase, Contender, Sample, Suite, SuiteContext } from '../framework/suite.ts';
import { buildInPodCase } from './buildInPod.ts';

const repoRoot = resolve(import.meta.dirname, '../../..');
const cliDir = join(repoRoot, 'packages/cli');

/** The example builds of the peers' figures in shared/PEERS.md, each written into the suite's work dir. */
interface Example {
  name: 'small' | 'multistage' | 'debian-20k' | 'apt' | 'npm';
  base: 'busybox' | 'debian' | 'node';
  files: Record<string, string>;
  /** The largest Kiln / Kaniko ratio aimed for in a pod, cold. */
  maxRatioToKaniko: number;
}

const small: Example = {
  name: 'small',
  base: 'busybox',
  files: {
    Dockerfile: `ARG BASE
FROM \${BASE}
ENV APP_HOME=/app
WORKDIR /app
COPY config.txt ./
COPY data/ ./data/
RUN echo built > /app/built.txt
RUN for i in $(seq 1 100); do echo "$i" > /app/file-$i.txt; done
CMD ["cat", "/app/built.txt"]
`,
    'config.txt': 'key=value\n',
    'data/one.txt': 'one\n',
    'data/two.txt': 'two\n',
  },
  maxRatioToKaniko: 0.8,
};

const debian20k: Example = {
  name: 'debian-20k',
  base: 'debian',
  files: {
    Dockerfile: `ARG BASE
FROM \${BASE}
RUN for d in $(seq 1 200); do mkdir -p /data/d$d; for f in $(seq 1 100); do echo "$d/$f" > /data/d$d/f$f; done; done
RUN cp -a /usr/share /usr/share-copy
RUN echo changed > /data/d1/f1
CMD ["ls", "/data"]
`,
  },
  maxRatioToKaniko: 0.5,
};

/** A real workload: packages from the Debian mirror (reachable from RUN here). */
const apt: Example = {
  name: 'apt',
  base: 'debian',
  files: {
    Dockerfile: `ARG BASE
FROM \${BASE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl ca-certificates git && rm -rf /var/lib/apt/lists/*
CMD ["git", "--version"]
`,
  },
  maxRatioToKaniko: 0.8,
};

/** A real workload: packages from the npm registry (reachable from RUN here), on the node base image. */
const npm: Example = {
  name: 'npm',
  base: 'node',
  files: {
    Dockerfile: `ARG BASE
FROM \${BASE}
WORKDIR /app
COPY package.json ./
RUN npm install --no-audit --no-fund --loglevel=error
CMD ["node", "-e", "require('express')"]
`,
    'package.json': `${JSON.stringify(
      {
        name: 'bench-npm',
        private: true,
        dependencies: { express: '^4', typescript: '^5', webpack: '^5', eslint: '^9', lodash: '^4' },
      },
      null,
      2,
    )}\n`,
  },
  maxRatioToKaniko: 0.8,
};

async function multistage(): Promise<Example> {
  const dir = join(repoRoot, 'examples/multistage');
  return {
    name: 'multistage',
    base: 'busybox',
    maxRatioToKaniko: 0.8,
    files: {
      Dockerfile: await readFile(join(dir, 'Dockerfile'), 'utf8'),
      'greeting.txt': await readFile(join(dir, 'greeting.txt'), 'utf8'),
    },
  };
}

/**
 * The CLI as it ships (dist/: one bundle plus the worker entry files, as packages/cli/build.ts
 * makes it), built into the work dir so a stale dist/ is never measured and nobody's is replaced.
 */
async function bundleCliForBench(ctx: SuiteContext): Promise<string> {
  const outdir = join(ctx.workDir, 'kiln-dist');
  try {
    await bundleCli({ outdir, logLevel: 'silent' });
    return join(outdir, 'kiln.mjs');
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    ctx.note(`could not bundle the CLI (${reason}); timing the sources`);
    return join(cliDir, 'src/main.ts');
  }
}

interface Fixture {
  registry: TestRegistry;
  busybox: PushedImage;
  debian?: PushedImage;
  /** Debian with Node, npm and the machine's npm registry and CA (for the npm workload). */
  node?: PushedImage;
  cli: string;
}

type Driver = 'vfs' | 'overlay';

/** buildah bud as its users run it for a cached build: --layers, chroot isolation, storage under workDir. */
function buildahBud(
  ctx: SuiteContext,
  fixture: Fixture,
  example: Example,
  driver: Driver,
  storage: string,
  registryCache?: string,
): Promise<Sample> {
  const root = join(ctx.workDir, 'buildah', storage);
  return measureCommand('buildah', [
    '--root',
    join(root, 'root'),
    '--runroot',
    join(root, 'run'),
    '--storage-driver',
    driver,
    'bud',
    '--quiet',
    '--isolation',
    'chroot',
    '--layers',
    '--tls-verify=false',
    '--build-arg',
    `BASE=${baseOf(fixture, example).reference}`,
    ...(registryCache ? ['--cache-from', registryCache, '--cache-to', registryCache] : []),
    '-t',
    `localhost/bench-${example.name}`,
    contextDir(ctx, example),
  ]);
}

function baseOf(fixture: Fixture, example: Example): PushedImage {
  if (example.base === 'node') return fixture.node!;
  return example.base === 'debian' ? fixture.debian! : fixture.busybox;
}

function contextDir(ctx: SuiteContext, example: Example): string {
  return join(ctx.workDir, 'contexts', example.name);
}

/** kiln build --cache as a CI job runs it: push to the registry, cache in `<destination>/cache`. */
function kilnBuild(
  ctx: SuiteContext,
  fixture: Fixture,
  example: Example,
  repository: () => string,
  cacheDir: () => string,
) {
  return measureCommand(
    process.execPath,
    [
      fixture.cli,
      'build',
      '--context',
      contextDir(ctx, example),
      '--build-arg',
      `BASE=${baseOf(fixture, example).reference}`,
      '--destination',
      `${fixture.registry.host}/${repository()}:latest`,
      '--insecure-registry',
      fixture.registry.host,
      '--cache',
      '--cache-dir',
      cacheDir(),
      '--reproducible',
      '--kiln-dir',
      join(ctx.workDir, 'kiln-work'),
    ],
    { env: { ...process.env, CI: '1' } },
  );
}

const wipe = (path: string) => rm(path, { recursive: true, force: true });

function casesFor(ctx: SuiteContext, fixture: Fixture, example: Example): BenchCase[] {
  const name = example.name;
  let coldRun = 0;
  const buildahDir = (storage: string) => join(ctx.workDir, 'buildah', storage);
  const kilnCold: Contender = {
    name: 'kiln cold',
    // A new repository (so a new cache repository) and an empty --cache-dir each run.
    before: async () => {
      coldRun++;
      await wipe(join(ctx.workDir, `kiln-cold-${name}`));
    },
    run: async () =>
      await kilnBuild(
        ctx,
        fixture,
        example,
        () => `bench/${name}-cold-${coldRun}`,
        () => join(ctx.workDir, `kiln-cold-${name}`),
      ),
  };
  const buildahCold = (driver: Driver): Contender => ({
    name: `buildah ${driver} cold`,
    before: () => wipe(buildahDir(`${name}-cold-${driver}`)),
    run: async () => await buildahBud(ctx, fixture, example, driver, `${name}-cold-${driver}`),
  });
  const cold: BenchCase = {
    name: `build-cold/${name}`,
    baseline: buildahCold('vfs'),
    contenders: [buildahCold('overlay'), kilnCold],
    ...(name === 'debian-20k'
      ? { targets: [{ contender: 'kiln cold', maxRatio: 1 / 1.5, note: '≥1.5× faster than buildah vfs' }] }
      : {}),
  };

  // Same machine: the local state of an earlier build of the same inputs is kept.
  const localRepo = `bench/${name}-local`;
  const localCacheDir = join(ctx.workDir, `kiln-local-${name}`);
  const buildahWarm = (driver: Driver): Contender => ({
    name: `buildah ${driver} warm`,
    run: async () => await buildahBud(ctx, fixture, example, driver, `${name}-warm-${driver}`),
  });
  const local: BenchCase = {
    name: `build-warm-local/${name}`,
    setup: async () => {
      await Promise.all(['vfs', 'overlay'].map((driver) => wipe(buildahDir(`${name}-warm-${driver}`))));
      await wipe(localCacheDir);
      await buildahBud(ctx, fixture, example, 'overlay', `${name}-warm-overlay`);
      await buildahBud(ctx, fixture, example, 'vfs', `${name}-warm-vfs`);
      await kilnBuild(
        ctx,
        fixture,
        example,
        () => localRepo,
        () => localCacheDir,
      );
    },
    baseline: buildahWarm('overlay'),
    contenders: [
      buildahWarm('vfs'),
      {
        name: 'kiln warm (same machine)',
        run: async () =>
          await kilnBuild(
            ctx,
            fixture,
            example,
            () => localRepo,
            () => localCacheDir,
          ),
      },
    ],
    ...(name === 'debian-20k'
      ? {
          targets: [
            { contender: 'kiln warm (same machine)', maxRatio: 2, note: 'within 2× of buildah overlay' },
          ],
        }
      : {}),
  };

  // Another machine of the fleet: no local state at all, only what the registry holds.
  const fleetRepo = `bench/${name}-fleet`;
  const buildahCacheRepo = `${fixture.registry.host}/bench/${name}-buildah-cache`;
  const freshKilnDir = join(ctx.workDir, `kiln-fleet-${name}`);
  const fleet: BenchCase = {
    name: `build-warm-fleet/${name}`,
    setup: async () => {
      await wipe(buildahDir(`${name}-fleet`));
      await buildahBud(ctx, fixture, example, 'vfs', `${name}-fleet`, buildahCacheRepo);
      await wipe(freshKilnDir);
      await kilnBuild(
        ctx,
        fixture,
        example,
        () => fleetRepo,
        () => freshKilnDir,
      );
    },
    baseline: {
      name: 'buildah vfs --cache-from registry',
      before: () => wipe(buildahDir(`${name}-fleet`)),
      run: async () => await buildahBud(ctx, fixture, example, 'vfs', `${name}-fleet`, buildahCacheRepo),
    },
    contenders: [
      {
        name: 'kiln warm (fresh machine)',
        before: () => wipe(freshKilnDir),
        run: async () =>
          await kilnBuild(
            ctx,
            fixture,
            example,
            () => fleetRepo,
            () => freshKilnDir,
          ),
      },
    ],
    ...(name === 'debian-20k'
      ? {
          targets: [
            { contender: 'kiln warm (fresh machine)', maxMs: 1000, note: 'under 1 s' },
            {
              contender: 'kiln warm (fresh machine)',
              maxRatio: 1,
              note: 'faster than buildah registry cache',
            },
          ],
        }
      : {}),
  };
  return [cold, local, fleet];
}

/**
 * `build-in-pod/debian-20k` (not with --quick): Kiln's executor image in a fresh pod-like container per
 * build (buildInPod.ts), against Kiln cold on the host with the same Dockerfile and registry.
 */
function inPodCase(ctx: SuiteContext, fixture: Fixture, example: Example): BenchCase {
  let hostRun = 0;
  const cacheDir = () => join(ctx.workDir, `kiln-host-cold-${example.name}`);
  return buildInPodCase(ctx, {
    example: example.name,
    maxRatioToKaniko: example.maxRatioToKaniko,
    registry: fixture.registry,
    contextDir: contextDir(ctx, example),
    base: baseOf(fixture, example),
    baseline: {
      name: 'kiln cold (host)',
      before: async () => {
        hostRun++;
        await wipe(cacheDir());
      },
      run: async () =>
        await kilnBuild(ctx, fixture, example, () => `bench/${example.name}-host-cold-${hostRun}`, cacheDir),
    },
  });
}

/**
 * The npm workload's base, as `node:24-bookworm` would be (Docker Hub is unreachable): the node fixture
 * (Debian + the official Node binary + npm) with this machine's npm registry and CA in
 * /usr/local/etc/npmrc, read at run time (`machineNpmConfig`), as a company's base image carries its
 * registry and CA. Without them npm in the pod cannot reach a registry behind a TLS-re-signing proxy and
 * retries each package for minutes before it fails.
 */
async function nodeBaseImage(ctx: SuiteContext, fixture: Fixture): Promise<PushedImage> {
  ctx.note("pushing the node base image (Debian + Node + npm + the machine's npm registry and CA)");
  return ensureNodeImage(fixture.registry, { repository: 'bench/node', npmConfig: await machineNpmConfig() });
}

/**
 * `KILN_BENCH_CASES=build-in-pod,build-cold/small` keeps only the build cases whose names start with one of
 * the comma-separated prefixes (e.g. `KILN_BENCH_CASES=build-in-pod pnpm bench build` runs the in-pod case
 * alone); unset, every case runs.
 */
function selectedCases(): string[] | undefined {
  const prefixes = (process.env.KILN_BENCH_CASES ?? '')
    .split(',')
    .map((prefix) => prefix.trim())
    .filter((prefix) => prefix !== '');
  return prefixes.length === 0 ? undefined : prefixes;
}

let registry: TestRegistry | undefined;

export const buildSuite: Suite = {
  name: 'build',
  description:
    'kiln build --cache vs buildah bud --layers (vfs, overlay, registry cache): cold, warm on the same machine, warm on a fresh machine; without --quick also the executor image in a pod (cold, fleet-warm)',
  async cases(ctx) {
    if (!existsSync('/usr/bin/buildah')) {
      throw new KilnError('BENCH_BASELINE_MISSING', 'buildah is not installed', {
        hint: 'apt-get install buildah',
      });
    }
    const examples = ctx.quick ? [small] : [small, await multistage(), debian20k];
    registry = await startRegistry({ mode: 'plain', dir: join(ctx.workDir, 'registry') });
    const active = registry;
    ctx.note('pushing the base images to the bench registry');
    const fixture: Fixture = {
      registry: active,
      busybox: await ensureBusyboxImage(active),
      ...(ctx.quick ? {} : { debian: await ensureDebianImage(active) }),
      cli: await bundleCliForBench(ctx),
    };
    for (const example of ctx.quick ? examples : [...examples, apt, npm]) {
      const dir = contextDir(ctx, example);
      await wipe(dir);
      for (const [file, text] of Object.entries(example.files)) {
        await mkdir(join(dir, file, '..'), { recursive: true });
        await writeFile(join(dir, file), text);
      }
    }
    await mkdir(join(ctx.workDir, 'kiln-work'), { recursive: true });
    const cases = examples.flatMap((example) => casesFor(ctx, fixture, example));
    if (!ctx.quick) {
      const only = selectedCases();
      if (!only || only.some((prefix) => 'build-in-pod/npm'.startsWith(prefix))) {
        fixture.node = await nodeBaseImage(ctx, fixture);
      }
      for (const example of [...examples, apt, npm]) cases.push(inPodCase(ctx, fixture, example));
    }
    const only = selectedCases();
    if (only) {
      const kept = cases.filter((c) => only.some((prefix) => c.name.startsWith(prefix)));
      if (kept.length === 0) {
        throw new KilnError('BENCH_USAGE', `KILN_BENCH_CASES=${only.join(',')} matches no build case`, {
          hint: `cases: ${cases.map((c) => c.name).join(', ')}`,
        });
      }
      ctx.note(`KILN_BENCH_CASES: running ${kept.map((c) => c.name).join(', ')}`);
      cases.splice(0, cases.length, ...kept);
    }
    // The registry lives as long as the last case.
    const last = cases.at(-1)!;
    const teardown = last.teardown;
    last.teardown = async () => {
      await teardown?.();
      await active.stop();
    };
    return cases;
  },
};
