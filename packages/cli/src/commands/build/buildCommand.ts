import { Command, Option } from 'commander';
import type { Output } from '../../output.ts';
import { addRegistryOptions } from '../../registryOptions.ts';
import { addReporterOptions } from '../../reporter/reporterOptions.ts';
import { timestampedOutput } from '../../timestampedOutput.ts';
import { type BuildFlags, runBuild } from './runBuild.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface BuildCommandDefaults {
  /** `kiln executor` defaults the context to /workspace when it exists, as Kaniko does. */
  context?: string;
  /** `kiln executor` writes Kaniko's media types (`auto`); `kiln build` writes OCI. */
  imageFormat?: 'oci' | 'docker' | 'auto';
  /**
   * The gzip level when `--compression-level` is not given: `kiln build` keeps BuildKit's (zlib's
   * default, 6); `kiln executor` takes Kaniko's (go-containerregistry's `gzip.BestSpeed`, 1).
   */
  gzipLevel?: number;
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
      'build context: a directory, dir://…, tar://PATH|stdin, a .tar.gz, -, https://…, git://…, s3://…, gs://…',
      defaults.context ?? '.',
    )
    .option('--context-sub-path <path>', 'use this directory inside the context')
    .option(
      '--git <key=value>',
      'git:// contexts: branch=, single-branch=, recurse-submodules=, insecure-skip-tls= (repeatable)',
      collect,
      [],
    )
    .option(
      '-f, --dockerfile <path>',
      'Dockerfile (default <context>/Dockerfile; - for stdin; an https:// URL)',
    )
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
    .option(
      '--annotation <key=value>',
      'annotate the image manifest (repeatable; OCI media types)',
      collect,
      [],
    )
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
    .addOption(
      new Option(
        '--image-format <format>',
        'media types: oci, docker (Docker v2), or auto (Docker v2 unless the base image is OCI, as Kaniko)',
      )
        .choices(['oci', 'docker', 'auto'])
        .default(defaults.imageFormat ?? 'oci'),
    )
    .option('--ignore-path <path>', 'leave this path out of snapshots (repeatable)', collect, []);
  return addReporterOptions(addRegistryOptions(command))
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
    .option(
      '--platform <os/arch[,…]>',
      'platforms to build (comma list, repeatable); two or more push an image index',
      collect,
    )
    .option('--cache [enabled]', 'use the layer cache (a registry repository, see --cache-repo)')
    .option('--cache-repo <repo>', 'repository of the layer cache (default: <first destination>/cache)')
    .option('--cache-dir <dir>', 'on-disk blob store shared across builds (base and cached layers)')
    .option('--cache-ttl <duration>', 'how long cached layers stay valid (e.g. 336h, the default)')
    .option('--no-push-cache', 'read the layer cache but write nothing to it')
    .option('--cache-copy-layers [enabled]', 'cache COPY/ADD layers (default true; =false to re-run them)')
    .option('--cache-run-layers [enabled]', 'cache RUN layers (default true; =false to re-run them)')
    .addOption(
      new Option('--executor <kind>', 'where RUN executes (auto: container only in the Kiln executor image)')
        .choices(['auto', 'container', 'sandbox'])
        .default('auto'),
    )
    .option('--force', 'allow --executor container outside the executor image (it overwrites /)')
    .addOption(
      new Option(
        '--network <mode>',
        "RUN's network: the host's, none, or sandbox (own namespace, outbound only)",
      )
        .choices(['host', 'none', 'sandbox'])
        .default('host'),
    )
    .option(
      '--allow <entitlement>',
      'allow RUN --security=insecure (security.insecure) or RUN --network=host (network.host); repeatable',
      collect,
      [],
    )
    .option('--kiln-dir <dir>', 'work dir for this build (default: a new dir under the temp dir)')
    .option(
      '--kaniko-dir <dir>',
      "Kaniko's directory (default /kaniko, or KANIKO_DIR): .docker/config.json and ssl/certs read there, work files under it",
    )
    .option('--ignore-var-run', 'container mode: leave /var/run out of snapshots (the default)', true)
    .option('--no-ignore-var-run', 'container mode: snapshot /var/run like any other directory')
    .option(
      '--image-fs-extract-retry <n>',
      'extract base layers again this many times after a failure (a corrupt cached blob is fetched anew)',
    )
    .option('--log-timestamp', 'prefix every progress line with its time (ISO 8601)')
    .option('--trace <file>', 'write per-step timings as Chrome trace-event JSON')
    .action(async (flags: BuildFlags & { logTimestamp?: boolean }) => {
      const withDefaults =
        defaults.gzipLevel === undefined ? flags : { ...flags, defaultGzipLevel: defaults.gzipLevel };
      await runBuild(withDefaults, flags.logTimestamp ? timestampedOutput(output) : output);
    });
}
