import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { BlobStore, parseReference } from '@kiln/image';
import { createIndex, createRegistryClient } from '@kiln/registry';
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

interface IndexCreateFlags extends RegistryFlags, ReporterFlags {
  tag: string[];
  dryRun?: boolean;
  digestFile?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * `kiln index create --tag DEST SRC...`: joins per-architecture images (built on native runners)
 * and the entries of indexes into one index, as `docker buildx imagetools create` does.
 */
function indexCreateCommand(output: Output): Command {
  return addReporterOptions(
    addRegistryOptions(
      new Command('create')
        .description('join images (and the entries of indexes) into one multi-platform index')
        .argument('<sources...>', 'images or indexes to join, by tag or digest')
        .option('-t, --tag <reference>', 'where to push the index (repeatable)', collect, [])
        .option('--dry-run', 'print the index JSON; copy and push nothing')
        .option('--digest-file <file>', 'write the index digest here'),
    ),
  ).action(async (texts: string[], flags: IndexCreateFlags) => {
    const reporter = reporterFor(flags, output);
    await reportResult(reporter, async () => {
      if (flags.tag.length === 0 && !flags.dryRun) {
        throw new KilnError('MISSING_FLAG', 'kiln index create needs --tag DEST', {
          hint: 'e.g. kiln index create --tag registry/app:1 registry/app:1-amd64 registry/app:1-arm64',
          exitCode: 2,
        });
      }
      const sources = texts.map((text) => parseReference(text));
      const destinations = flags.tag.map((text) => parseReference(text));
      const client = createRegistryClient(
        // The tags are what this command pushes to: `--insecure` applies to them.
        await registryClientOptions({ ...flags, destination: flags.tag }, (event) =>
          reporter.onEvent({ type: 'registry', event }),
        ),
      );
      const scratch = await mkdtemp(join(tmpdir(), 'kiln-index-'));
      try {
        const created = await createIndex(client, sources, destinations, {
          store: new BlobStore(scratch),
          dryRun: Boolean(flags.dryRun),
        });
        if (flags.digestFile !== undefined) await writeFile(flags.digestFile, created.digest);
        if (flags.dryRun) {
          // The exact bytes that would be pushed, so their sha256 is the digest.
          return {
            text: `${created.bytes.toString('utf8')}\n`,
            fields: { digest: created.digest, index: created.index },
          };
        }
        return digestResult(
          created.digest,
          created.pushed.map((reference) => reference.toString()),
        );
      } finally {
        await client.close();
        await rm(scratch, { recursive: true, force: true });
      }
    });
  });
}

/** `kiln index`: commands on image indexes (multi-platform images). */
export function indexCommand(output: Output, program: Command): Command {
  const index = new Command('index')
    .description('create multi-platform image indexes')
    .copyInheritedSettings(program);
  index.addCommand(indexCreateCommand(output).copyInheritedSettings(index));
  return index;
}
