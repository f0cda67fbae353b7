import { MediaType } from './mediaTypes.ts';
import type { ImageConfig, Platform } from './types.ts';

/**
 * The index media type for manifests of these media types, as BuildKit and `imagetools create`
 * choose it: a Docker manifest list when every manifest is Docker v2, an OCI index when every one
 * is OCI (a manifest without a media type counts as OCI); undefined when they mix, which neither
 * format describes well (a Docker list naming OCI manifests is refused by some registries).
 */
export function indexMediaTypeFor(manifestMediaTypes: (string | undefined)[]): string | undefined {
  const docker = manifestMediaTypes.filter(
    (t) => t === MediaType.dockerManifest || t === MediaType.dockerManifestList,
  ).length;
  if (docker === manifestMediaTypes.length && docker > 0) return MediaType.dockerManifestList;
  if (docker === 0) return MediaType.ociIndex;
  return undefined;
}

/** The `platform` of an index entry for an image, from its config (os, architecture, variant, os.version, os.features). */
export function platformOfConfig(config: ImageConfig): Platform {
  const extra = config as ImageConfig & { 'os.version'?: unknown; 'os.features'?: unknown };
  const osFeatures = extra['os.features'];
  return {
    architecture: config.architecture,
    os: config.os,
    ...(typeof extra['os.version'] === 'string' && extra['os.version'] !== ''
      ? { 'os.version': extra['os.version'] }
      : {}),
    ...(Array.isArray(osFeatures) && osFeatures.length > 0 && osFeatures.every((f) => typeof f === 'string')
      ? { 'os.features': osFeatures as string[] }
      : {}),
    ...(typeof config.variant === 'string' && config.variant !== '' ? { variant: config.variant } : {}),
  };
}

/**
 * A key equal for platforms an index cannot tell apart: os, architecture, variant (arm64's
 * absent variant is v8, as containerd's matcher reads it) and os.version.
 */
export function platformKey(platform: Platform): string {
  const variant = platform.variant ?? (platform.architecture === 'arm64' ? 'v8' : '');
  return [platform.os, platform.architecture, variant, platform['os.version'] ?? ''].join('/');
}
