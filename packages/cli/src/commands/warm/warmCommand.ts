import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BaseImage, dockerfileBaseImages, downloadDockerfile, isDockerfileUrl } from '@kiln/builder';
import { KilnError } from '@kiln/errors';
import { BlobStore, type Platform, parsePlatform, parseReference } from '@kiln/image';
import { createRegistryClient, pullImage } from '@kiln/registry';
import { Command, Option } from 'commander';
import type { Output } from '../../output.ts';
import { addRegistryOptions, type RegistryFlags, registryClientOptions } from '../../registryOptions.ts';
import { pulledResult, type Reporter } from '../../reporter/createReporter.ts';
import {
  addReporterOptions,
  type ReporterFlags,
  reporterFor,
  reportResult,
} from '../../reporter/reporterOptions.ts';
import { parseBuildArgs } from '../build/buildArgs.ts';

interface WarmFlags extends RegistryFlags, ReporterFlags {
  cacheDir?: string;
  image: string[];
  dockerfile?: string;
  buildArg: string[];
  platform?: string;
  customPlatform?: string;
  force?: boolean;
  cacheTtl?: string;
}

export interface WarmCommandDefaults {
  /** `/kaniko/warmer` defaults to Kaniko's `/cache`. */
  cacheDir?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * `kiln warm IMAGE… --cache-dir DIR` (Kaniko's warmer): pulls images, with manifests, configs and
 * layers, into the blob store that builds on this machine share, so their bases are never
 * downloaded again and a digest-pinned FROM builds with the registry unreachable. `--dockerfile`
 * warms its FROM images as a build would resolve them (`--build-arg` included).
 */
export function warmCommand(output: Output, name = 'warm', defaults: WarmCommandDefaults = {}): Command {
  const command = new Command(name)
    .description('pre-fill --cache-dir with images (base images of later builds)')
    .argument('[images...]', 'image references, e.g. debian:bookworm 127.0.0.1:5000/base:1')
    .option('-i, --image <ref>', 'an image to warm (repeatable; Kaniko’s spelling)', collect, [])
    .addOption(
      new Option('-c, --cache-dir <dir>', 'the blob store `kiln build --cache-dir` reads').default(
        defaults.cacheDir,
      ),
    )
    .option('-d, --dockerfile <path|url>', 'warm the images its FROM lines name')
    .option('--build-arg <arg>', 'NAME=value for the Dockerfile’s FROM lines (repeatable)', collect, [])
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index (default: this machine)')
    .option('--custom-platform <os/arch[/variant]>', 'same as --platform (Kaniko’s name)')
    // Kaniko's warmer spells it in camelCase; commander stores it as `customPlatform` too.
    .addOption(new Option('--customPlatform <os/arch[/variant]>').hideHelp())
    .option(
      '-f, --force',
      'accepted for Kaniko: manifests are always re-read and blobs are content-addressed',
    )
    .option(
      '--cache-ttl <duration>',
      'accepted for Kaniko: warmed blobs never expire (they are content-addressed)',
    );
  return addReporterOptions(addRegistryOptions(command)).action(async (texts: string[], flags: WarmFlags) => {
    const reporter = reporterFor(flags, output);
    await reportResult(reporter, async () =>
      pulledResult(await warmImages([...texts, ...flags.image], flags, reporter)),
    );
  });
}

/** Pulls each image into the store; returns `registry/repository@digest` of those warmed. */
async function warmImages(texts: string[], flags: WarmFlags, reporter: Reporter): Promise<string[]> {
  if (flags.cacheDir === undefined) {
    throw new KilnError('MISSING_FLAG', 'kiln warm needs --cache-dir DIR', {
      hint: 'the same directory later builds pass as --cache-dir',
      exitCode: 2,
    });
  }
  const platformText = flags.platform ?? flags.customPlatform;
  const platform = platformText === undefined ? undefined : parsePlatform(platformText);
  const images: BaseImage[] = texts.map((reference) => ({ reference }));
  if (flags.dockerfile !== undefined) {
    const text = await readDockerfile(flags.dockerfile);
    const buildArgs = parseBuildArgs(flags.buildArg);
    images.push(
      ...dockerfileBaseImages(text, {
        fileName: flags.dockerfile,
        buildArgs,
        ...(platform ? { platform } : {}),
      }),
    );
  }
  if (images.length === 0) {
    throw new KilnError('MISSING_FLAG', 'nothing to warm: name images, or a Dockerfile with --dockerfile', {
      exitCode: 2,
    });
  }
  // Parse every reference before pulling any: a typo must not cost a download.
  const references = images.map((image) => ({ ...image, parsed: parseReference(image.reference) }));
  const client = createRegistryClient(
    await registryClientOptions(flags, (event) => reporter.onEvent({ type: 'registry', event })),
  );
  const cacheDir = resolve(flags.cacheDir);
  await mkdir(cacheDir, { recursive: true });
  const failures: unknown[] = [];
  const warmed: string[] = [];
  try {
    const store = new BlobStore(cacheDir);
    for (const { parsed, platform: stagePlatform } of references) {
      const wanted: Platform | undefined = stagePlatform ?? platform;
      try {
        const image = await pullImage(client, parsed, { store, ...(wanted ? { platform: wanted } : {}) });
        warmed.push(`${parsed.registry}/${parsed.repository}@${image.manifestDigest}`);
      } catch (error) {
        // As Kaniko's warmer: each failure is reported, and only a warm that got nothing fails.
        failures.push(error);
        reporter.onEvent({
          type: 'warning',
          message: `cannot warm ${parsed.toString()}: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
  } finally {
    await client.close();
  }
  if (failures.length === references.length) {
    throw new KilnError('WARM_FAILED', `none of the ${references.length} image(s) could be warmed`, {
      cause: failures[0],
    });
  }
  return warmed;
}

async function readDockerfile(path: string): Promise<string> {
  if (isDockerfileUrl(path)) {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-warm-'));
    try {
      return await downloadDockerfile(path, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new KilnError('DOCKERFILE_NOT_FOUND', `cannot read Dockerfile ${path}`, { exitCode: 2 });
  }
}
