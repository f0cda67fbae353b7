import { Command, Option } from 'commander';
import type { Output } from '../../output.ts';
import { addRegistryOptions } from '../../registryOptions.ts';
import { type BuildFlags, runBuild } from './runBuild.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface BuildCommandDefaults {
  /** `kiln executor` defaults the context to /workspace when it exists, as Kaniko does. */
  context?: string;
}

/** `kiln build` and its flags (Kaniko's spellings are mapped by `kiln executor`). */
export function createBuildCommand(
  output: Output,
  name = 'build',
  defaults: BuildCommandDefaults = {},
): Command {
  const command = new Command(name)
    .description('Build an image from a Dockerfile and push it to every --destination')
    .option(
      '-c, --context <path>',
      'build context: a directory, dir://…, tar://… or a .tar.gz',
      defaults.context ?? '.',
    )
    .option('-f, --dockerfile <path>', 'Dockerfile (default <context>/Dockerfile; - for stdin)')
    .option('-d, --destination <ref>', 'push the image here (repeatable)', collect, [])
    .option('--no-push', 'build only; do not push')
    .option('--tar-path <file>', 'also write the image as a docker-archive tarball')
    .option('--oci-layout-path <dir>', 'also write the image into an OCI image layout')
    .option('--digest-file <file>', 'write the image digest here')
    .option('--image-name-with-digest-file <file>', 'write repository@digest for each destination here')
    .option(
      '--image-name-tag-with-digest-file <file>',
      'write repository:tag@digest for each destination here',
    )
    .option(
      '--build-arg <arg>',
      'NAME=value, or NAME to take it from the environment (repeatable)',
      collect,
      [],
    )
    .option('--target <stage>', 'build this stage (and the stages it needs) only')
    .option(
      '--secret <spec>',
      'secret for RUN --mount=type=secret: id=NAME,src=FILE or id=NAME,env=VARIABLE (repeatable)',
      collect,
      [],
    )
    .option(
      '--ssh <spec>',
      'ssh agent for RUN --mount=type=ssh: default, ID=SOCKET or ID=KEYFILE[,KEYFILE] (repeatable)',
      collect,
      [],
    )
    .option('--label <key=value>', 'label the image (repeatable)', collect, [])
    .addOption(
      new Option('--snapshot-mode <mode>', 'how changed files are found')
        .choices(['full', 'metadata', 'incremental', 'overlay', 'redo', 'time'])
        .default('incremental'),
    )
    .option('--single-snapshot', 'one layer per stage, snapshotted at the end')
    .option(
      '--reproducible',
      'strip timestamps (SOURCE_DATE_EPOCH or 0) so builds are bit-for-bit repeatable',
    )
    .option('--ignore-path <path>', 'leave this path out of snapshots (repeatable)', collect, []);
  return addRegistryOptions(command)
    .option(
      '--skip-push-permission-check',
      'do not check that every destination accepts pushes before building',
    )
    .addOption(
      new Option('--compression <kind>', 'layer compression')
        .choices(['gzip', 'zstd', 'none'])
        .default('gzip'),
    )
    .option('--compression-level <n>', 'gzip 1-9, zstd 1-19')
    .option('--custom-platform <os/arch[/variant]>', 'platform of the image (TARGETPLATFORM)')
    .option('--cache [enabled]', 'use the layer cache (a registry repository, see --cache-repo)')
    .option('--cache-repo <repo>', 'repository of the layer cache (default: <first destination>/cache)')
    .option('--cache-dir <dir>', 'on-disk blob store shared across builds (base and cached layers)')
    .option('--cache-ttl <duration>', 'how long cached layers stay valid (e.g. 336h, the default)')
    .option('--no-push-cache', 'read the layer cache but write nothing to it')
    .option('--cache-copy-layers [enabled]', 'cache COPY/ADD layers (default true; =false to re-run them)')
    .option('--cache-run-layers [enabled]', 'cache RUN layers (default true; =false to re-run them)')
    .addOption(
      new Option('-v, --verbosity <level>', 'log level')
        .choices(['panic', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'])
        .default('info'),
    )
    .addOption(
      new Option('--log-format <format>', 'progress output')
        .choices(['text', 'json', 'color'])
        .default('text'),
    )
    .addOption(
      new Option('--executor <kind>', 'where RUN executes (auto: container only in the Kiln executor image)')
        .choices(['auto', 'container', 'sandbox'])
        .default('auto'),
    )
    .option('--force', 'allow --executor container outside the executor image (it overwrites /)')
    .option('--kiln-dir <dir>', 'work dir for this build (default: a new dir under the temp dir)')
    .option('--trace <file>', 'write per-step timings as Chrome trace-event JSON')
    .action(async (flags: BuildFlags) => {
      await runBuild(flags, output);
    });
}
