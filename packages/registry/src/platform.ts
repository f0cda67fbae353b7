import { KilnError } from '@kiln/errors';
import { type Descriptor, formatPlatform, type ImageIndex, type Platform } from '@kiln/image';

/** The index entry for a platform; the variant must match when asked for (arm64 treats none as v8). */
export function selectPlatform(index: ImageIndex, wanted: Platform, where: string): Descriptor {
  const normalVariant = (p: Platform) => p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);
  const candidates = index.manifests.filter(
    (d) => d.platform?.os === wanted.os && d.platform.architecture === wanted.architecture,
  );
  const chosen =
    wanted.variant === undefined
      ? candidates[0]
      : candidates.find((d) => normalVariant(d.platform!) === normalVariant(wanted));
  if (chosen === undefined) {
    const available = index.manifests
      .map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown'))
      .join(', ');
    throw new KilnError('PLATFORM_NOT_FOUND', `${where} has no image for ${formatPlatform(wanted)}`, {
      hint: `platforms in the index: ${available || 'none'}; choose one with --platform`,
    });
  }
  return chosen;
}
