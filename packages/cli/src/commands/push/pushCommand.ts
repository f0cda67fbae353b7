import { parseReference, readOciLayout } from '@kiln/image';
import { createRegistryClient, pushImage } from '@kiln/registry';
import { Command } from 'commander';
import type { Output } from '../../output.ts';
import { addRegistryOptions, type RegistryFlags, registryClientOptions } from '../../registryOptions.ts';
import { digestResult } from '../../reporter/createReporter.ts';
import {
  addReporterOptions,
  type ReporterFlags,
  reporterFor,
  reportResult,
} from '../../reporter/reporterOptions.ts';

/** `DIR[:TAG]`: a tag after the last colon, unless that colon is part of the path. */
export function parseLayoutArgument(text: string): { dir: string; tag: string | undefined } {
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || text.slice(colon + 1).includes('/')) return { dir: text, tag: undefined };
  return { dir: text.slice(0, colon), tag: text.slice(colon + 1) || undefined };
}

/** `kiln push DIR[:TAG] REF...`: pushes an image from an OCI layout to one or more destinations. */
export function pushCommand(output: Output): Command {
  return addReporterOptions(
    addRegistryOptions(
      new Command('push')
        .description('push an image from an OCI image layout to registries')
        .argument('<layout>', 'OCI layout directory, optionally :TAG to pick an image')
        .argument('<destinations...>', 'image references to push to (tags and registries)'),
    ),
  ).action(async (layout: string, destinations: string[], flags: RegistryFlags & ReporterFlags) => {
    const reporter = reporterFor(flags, output);
    await reportResult(reporter, async () => {
      const { dir, tag } = parseLayoutArgument(layout);
      const references = destinations.map((d) => parseReference(d));
      const image = await readOciLayout(dir, tag);
      const client = createRegistryClient(
        await registryClientOptions(flags, (event) => reporter.onEvent({ type: 'registry', event })),
      );
      try {
        const result = await pushImage(
          client,
          {
            manifest: image.manifest,
            manifestBytes: image.manifestBytes,
            manifestMediaType: image.manifestMediaType,
            store: image.store,
          },
          references,
        );
        const pushed = result.pushed.map((destination) => destination.reference);
        return digestResult(result.digest, pushed, false);
      } finally {
        await client.close();
      }
    });
  });
}
