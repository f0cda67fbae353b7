import { type BuildNetwork, type BuildRequest, parseCacheTtl, parseGitFlags } from '@kiln/builder';
import { KilnError } from '@kiln/errors';
import type { Compression, Platform } from '@kiln/image';
import { readStdin } from '../../readStdin.ts';
import { registryClientOptions } from '../../registryOptions.ts';
import {
  defined,
  flagEnabled,
  parseAnnotations,
  parseBuildArgs,
  parseCount,
  parseLabels,
  snapshotStrategy,
} from './buildArgs.ts';
import { platformsFromFlags } from './platformFlags.ts';
import type { BuildFlags } from './runBuild.ts';
import { parseSecretFlag } from './secretFlags.ts';

/** The build request `kiln build` (and `kiln executor`) flags describe; every flag value checked here. */
export async function requestFromFlags(flags: BuildFlags): Promise<BuildRequest> {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  if (flags.dockerfile === '-' && (flags.context === '-' || flags.context === 'tar://stdin')) {
    throw new KilnError('INVALID_FLAG', 'the Dockerfile and the context cannot both come from stdin', {
      hint: 'put the Dockerfile in the context tarball, or pass it with --dockerfile PATH',
      exitCode: 2,
    });
  }
  const secrets = (flags.secret ?? []).flatMap((value) => parseSecretFlag(value) ?? []);
  return {
    context: flags.context,
    ...defined({ contextSubPath: flags.contextSubPath }),
    ...(flags.git.length > 0 ? { git: parseGitFlags(flags.git) } : {}),
    ...defined({ dockerfile: flags.dockerfile === '-' ? undefined : flags.dockerfile, target: flags.target }),
    ...(flags.dockerfile === '-' ? { dockerfileText: await readStdin() } : {}),
    buildArgs: parseBuildArgs(flags.buildArg),
    labels: parseLabels(flags.label),
    ...(flags.annotation?.length ? { annotations: parseAnnotations(flags.annotation) } : {}),
    ...withPlatforms(platformsFromFlags(flags.platform, flags.customPlatform)),
    snapshotStrategy: snapshotStrategy(flags.snapshotMode),
    singleSnapshot: Boolean(flags.singleSnapshot),
    reproducible: Boolean(flags.reproducible),
    ...(process.env.SOURCE_DATE_EPOCH && Number.isFinite(epoch) ? { sourceDateEpoch: epoch } : {}),
    ignorePaths: flags.ignorePath,
    compression: flags.compression as Compression,
    ...(flags.imageFormat === undefined ? {} : { imageFormat: flags.imageFormat }),
    ...(flags.imageFsExtractRetry === undefined
      ? {}
      : { imageFsExtractRetries: parseCount(flags.imageFsExtractRetry, '--image-fs-extract-retry') }),
    ...compressionLevel(flags),
    executor: flags.executor as 'auto' | 'container' | 'sandbox',
    force: Boolean(flags.force),
    ...(flags.network ? { network: flags.network as BuildNetwork } : {}),
    ...(flags.allow && flags.allow.length > 0 ? { allow: flags.allow } : {}),
    ...defined({ kilnDir: flags.kilnDir ?? flags.kanikoDir }),
    ...(flags.trace || flags.kanikoDir
      ? { keepPaths: [flags.trace, flags.kanikoDir].filter((path) => path !== undefined) }
      : {}),
    ignoreVarRun: flags.ignoreVarRun !== false,
    registry: await registryClientOptions(flags),
    cache: {
      enabled: flags.cache === true || flags.cache === 'true',
      ...defined({ repository: flags.cacheRepo, dir: flags.cacheDir }),
      ...(flags.cacheTtl === undefined ? {} : { ttlMs: parseCacheTtl(flags.cacheTtl) }),
      push: flags.pushCache !== false,
      runLayers: flagEnabled(flags.cacheRunLayers),
      copyLayers: flagEnabled(flags.cacheCopyLayers),
    },
    ...(secrets.length > 0 ? { secrets } : {}),
    outputs: {
      destinations: flags.destination,
      push: flags.push,
      checkPushAccess: !flags.skipPushPermissionCheck,
      ...defined({
        tarPath: flags.tarPath,
        ociLayoutPath: flags.ociLayoutPath,
        digestFile: flags.digestFile,
        imageNameWithDigestFile: flags.imageNameWithDigestFile,
        imageNameTagWithDigestFile: flags.imageNameTagWithDigestFile,
      }),
    },
  };
}

function withPlatforms(platforms: Platform[]): { platforms?: Platform[] } {
  return platforms.length > 0 ? { platforms } : {};
}

/** `--compression-level`, else the command's gzip default for gzip, else the layer writer's own. */
function compressionLevel(flags: BuildFlags): { compressionLevel?: number } {
  if (flags.compressionLevel !== undefined)
    return { compressionLevel: parseCount(flags.compressionLevel, '--compression-level') };
  if (flags.compression === 'gzip' && flags.defaultGzipLevel !== undefined)
    return { compressionLevel: flags.defaultGzipLevel };
  return {};
}
