import { resolve } from 'node:path';
import { KilnError } from '@kiln/errors';
import { BlobStore, parsePlatform, parseReference } from '@kiln/image';
import { createRegistryClient, pullImage } from '@kiln/registry';
import { Command } from 'commander';
import type { Output } from '../../output.ts';
import { addRegistryOptions, type RegistryFlags, registryClientOptions } from '../../registryOptions.ts';
import { pulledResult } from '../../reporter/createReporter.ts';
import {
  addReporterOptions,
  type ReporterFlags,
  reporterFor,
  reportResult,
} from '../../reporter/reporterOptions.ts';

interface WarmFlags extends RegistryFlags, ReporterFlags {
  cacheDir?: string;
  platform?: string;
}

/**
 * `kiln warm IMAGE… --cache-dir DIR` (Kaniko's warmer): pulls images with their layers into the
 * blob store that builds on this machine share, so their bases are never downloaded again.
 */
export function warmCommand(output: Output): Command {
  return addReporterOptions(
    addRegistryOptions(
      new Command('warm')
        .description('pre-fill --cache-dir with images (base images of later builds)')
        .argument('<images...>', 'image references, e.g. debian:bookworm 127.0.0.1:5000/base:1')
        .option('--cache-dir <dir>', 'the blob store `kiln build --cache-dir` reads')
        .option(
          '--platform <os/arch[/variant]>',
          'which image of a multi-platform index (default: this machine)',
        ),
    ),
  ).action(async (texts: string[], flags: WarmFlags) => {
    const reporter = reporterFor(flags, output);
    await reportResult(reporter, async () => {
      if (flags.cacheDir === undefined) {
        throw new KilnError('MISSING_FLAG', 'kiln warm needs --cache-dir DIR', {
          hint: 'the same directory later builds pass as --cache-dir',
          exitCode: 2,
        });
      }
      // Parse every reference before pulling any: a typo must not cost a download.
      const references = texts.map((text) => parseReference(text));
      const client = createRegistryClient(
        await registryClientOptions(flags, (event) => reporter.onEvent({ type: 'registry', event })),
      );
      try {
        const store = new BlobStore(resolve(flags.cacheDir));
        const images: string[] = [];
        for (const reference of references) {
          const image = await pullImage(client, reference, {
            store,
            ...(flags.platform === undefined ? {} : { platform: parsePlatform(flags.platform) }),
          });
          images.push(`${reference.registry}/${reference.repository}@${image.manifestDigest}`);
        }
        return pulledResult(images);
      } finally {
        await client.close();
      }
    });
  });
}
