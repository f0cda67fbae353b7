import { KilnError } from '@kiln/errors';
import { BlobStore, parsePlatform, parseReference, writeOciLayout } from '@kiln/image';
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

interface PullFlags extends RegistryFlags, ReporterFlags {
  ociLayout?: string;
  platform?: string;
}

/** `kiln pull REF --oci-layout DIR`: pulls an image (or the platform's image of an index) into an OCI layout. */
export function pullCommand(output: Output): Command {
  return addReporterOptions(
    addRegistryOptions(
      new Command('pull')
        .description('pull an image into an OCI image layout')
        .argument('<reference>', 'image reference, e.g. alpine:3.20 or 127.0.0.1:5000/app@sha256:…')
        .option('--oci-layout <dir>', 'OCI layout directory to write (created or extended)')
        .option(
          '--platform <os/arch[/variant]>',
          'which image of a multi-platform index (default: this machine)',
        ),
    ),
  ).action(async (text: string, flags: PullFlags) => {
    const reporter = reporterFor(flags, output);
    await reportResult(reporter, async () => {
      if (flags.ociLayout === undefined) {
        throw new KilnError('MISSING_FLAG', 'kiln pull needs --oci-layout DIR', {
          hint: 'e.g. kiln pull alpine --oci-layout ./alpine',
        });
      }
      const reference = parseReference(text);
      const client = createRegistryClient(
        await registryClientOptions(flags, (event) => reporter.onEvent({ type: 'registry', event })),
      );
      try {
        // The layout is a blob store itself: blobs land in place, and ones already there are kept.
        const store = new BlobStore(flags.ociLayout);
        const image = await pullImage(client, reference, {
          store,
          ...(flags.platform === undefined ? {} : { platform: parsePlatform(flags.platform) }),
        });
        await writeOciLayout(
          flags.ociLayout,
          [
            {
              manifest: image.manifest,
              manifestBytes: image.manifestBytes,
              ...(reference.tag === undefined ? {} : { tag: reference.tag }),
            },
          ],
          store,
        );
        return pulledResult([`${reference.registry}/${reference.repository}@${image.manifestDigest}`]);
      } finally {
        await client.close();
      }
    });
  });
}
