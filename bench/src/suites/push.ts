import { createCipheriv, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { KilnError } from '@kiln/errors';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import {
  BlobStore,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  MediaType,
  parseReference,
  readOciLayout,
  writeOciLayout,
} from '@kiln/image';
import { createRegistryClient, pushImage } from '@kiln/registry';
import { measureCommand } from '../framework/measureCommand.ts';
import type { BenchCase, Contender, Suite, SuiteContext } from '../framework/suite.ts';

const fullLayers = [250, 150, 100].map((mb) => mb * 1_000_000);
const quickLayers = [12, 8, 5].map((mb) => mb * 1_000_000);
const tag = 'bench';
const preparedLayouts = new Set<string>();
const kilnMain = resolve(import.meta.dirname, '../../../packages/cli/src/main.ts');

/**
 * Deterministic incompressible layer bytes (AES-CTR keystream, like gzip output to a registry):
 * the same fixture every run, generated at ~1 GB/s.
 */
async function writeLayer(store: BlobStore, size: number, seed: number): Promise<Descriptor> {
  const key = createHash('sha256').update(`kiln-push-bench-${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const writer = await store.createWriter();
  const zeros = Buffer.alloc(8 * 1024 * 1024);
  for (let written = 0; written < size; written += zeros.length) {
    await writer.write(cipher.update(zeros.subarray(0, Math.min(zeros.length, size - written))));
  }
  const { digest } = await writer.commit();
  return { mediaType: MediaType.ociLayerGzip, digest, size };
}

/** The 3-layer OCI layout both contenders push, cached in the fixtures dir. */
async function prepareLayout(ctx: SuiteContext): Promise<{ dir: string; bytes: number }> {
  const sizes = ctx.quick ? quickLayers : fullLayers;
  const dir = join(ctx.fixturesDir, `push-layout-${ctx.quick ? 'quick' : 'full'}`);
  const bytes = sizes.reduce((a, b) => a + b, 0);
  if (existsSync(join(dir, 'index.json'))) return { dir, bytes };
  ctx.note(`generating a ${Math.round(bytes / 1e6)} MB 3-layer image in ${dir}`);
  const store = new BlobStore(dir);
  const layers: Descriptor[] = [];
  for (const [index, size] of sizes.entries()) layers.push(await writeLayer(store, size, index));
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  };
  const configBlob = await store.writeJson(config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers,
  };
  await writeOciLayout(dir, [{ manifest, config, tag }], store);
  return { dir, bytes };
}

/** A fresh registry per run, so neither tool finds blobs from an earlier run (skopeo would mount them). */
function freshRegistry(ctx: SuiteContext) {
  let registry: TestRegistry | undefined;
  let runs = 0;
  return {
    get host(): string {
      if (registry === undefined) throw new Error('registry not started');
      return registry.host;
    },
    async restart(): Promise<void> {
      await registry?.stop();
      registry = await startRegistry({ mode: 'plain', dir: join(ctx.workDir, `registry-${runs++}`) });
    },
    async stop(): Promise<void> {
      await registry?.stop();
      registry = undefined;
    },
  };
}

function skopeoPush(layout: string, destination: () => string, bytes: number): Contender {
  return {
    name: 'skopeo copy',
    run: async () => ({
      ...(await measureCommand('skopeo', [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        `oci:${layout}:${tag}`,
        `docker://${destination()}`,
      ])),
      bytes,
    }),
  };
}

/**
 * The CLI as it ships: bundled (one file, fast start-up) like dist/kiln.mjs; built into the work
 * dir so a stale dist/ is never measured. Falls back to the sources if bundling fails.
 */
async function bundleCli(ctx: SuiteContext): Promise<string> {
  const outfile = join(ctx.workDir, 'kiln.mjs');
  try {
    const { build } = await import('esbuild');
    await build({
      entryPoints: [kilnMain],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      logLevel: 'silent',
      banner: {
        js: "import { createRequire as __kilnRequire } from 'node:module'; const require = __kilnRequire(import.meta.url);",
      },
    });
    return outfile;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    ctx.note(`could not bundle the CLI (${reason}); timing the sources`);
    return kilnMain;
  }
}

function kilnCliPush(
  cli: string,
  layout: string,
  destination: () => string,
  host: () => string,
  bytes: number,
): Contender {
  return {
    name: 'kiln push',
    run: async () => ({
      ...(await measureCommand(process.execPath, [
        cli,
        'push',
        `${layout}:${tag}`,
        destination(),
        '--insecure-registry',
        host(),
      ])),
      bytes,
    }),
  };
}

export const pushSuite: Suite = {
  name: 'push',
  description:
    'push a 3-layer image from an OCI layout to a local distribution registry: kiln vs skopeo copy',
  async cases(ctx) {
    if (!existsSync('/usr/bin/skopeo')) {
      throw new KilnError('BENCH_BASELINE_MISSING', 'skopeo is not installed', {
        hint: 'apt-get install skopeo',
      });
    }
    const { dir: layout, bytes } = await prepareLayout(ctx);
    preparedLayouts.add(layout);
    const image = await readOciLayout(layout, tag);
    const mb = Math.round(bytes / 1e6);
    const cli = await bundleCli(ctx);

    const full = freshRegistry(ctx);
    const fullDestination = () => `${full.host}/bench/app:1`;
    const pushCase: BenchCase = {
      name: `push-3-layers/${mb}MB`,
      baseline: { ...skopeoPush(layout, fullDestination, bytes), before: () => full.restart() },
      contenders: [
        {
          ...kilnCliPush(cli, layout, fullDestination, () => full.host, bytes),
          before: () => full.restart(),
        },
      ],
      teardown: () => full.stop(),
      targets: [{ contender: 'kiln push', maxRatio: 1.0, note: 'at least as fast as skopeo' }],
    };

    // Re-push: every blob is already in the repository, so only HEADs and the manifest PUT remain.
    const warm = freshRegistry(ctx);
    const warmDestination = () => `${warm.host}/bench/app:1`;
    let client: ReturnType<typeof createRegistryClient> | undefined;
    const repushCase: BenchCase = {
      name: `re-push-existing/${mb}MB`,
      setup: async () => {
        await warm.restart();
        client = createRegistryClient({ insecureRegistries: [warm.host] });
        await pushImage(client, image, [parseReference(warmDestination())]);
      },
      baseline: skopeoPush(layout, warmDestination, 0),
      contenders: [
        {
          name: 'kiln pushImage (in-process)',
          // A fresh client each run: the ping and token handshake are part of the cost.
          run: async () => {
            const fresh = createRegistryClient({ insecureRegistries: [warm.host] });
            try {
              await pushImage(fresh, image, [parseReference(warmDestination())]);
            } finally {
              await fresh.close();
            }
            return undefined;
          },
        },
        kilnCliPush(cli, layout, warmDestination, () => warm.host, 0),
      ],
      teardown: async () => {
        await client?.close();
        await warm.stop();
      },
      // Target: the in-process re-push under 200 ms (an absolute figure, so no ratio target here).
    };
    return [pushCase, repushCase];
  },
  async fixtureHashes() {
    const hashes: Record<string, string> = {};
    // index.json names the manifest digest, which pins every blob.
    for (const dir of preparedLayouts) {
      hashes[basename(dir)] = createHash('sha256')
        .update(await readFile(join(dir, 'index.json')))
        .digest('hex')
        .slice(0, 16);
    }
    return hashes;
  },
};
