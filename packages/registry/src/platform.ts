import { KilnError } from '@kiln/errors';
import type { Descriptor, ImageIndex, Platform } from '@kiln/image';

const nodeArchToOci: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

/** linux and this machine's architecture, as OCI names it. */
export function hostPlatform(): Platform {
  return { os: 'linux', architecture: nodeArchToOci[process.arch] ?? process.arch };
}

/** `linux/arm64/v8` → Platform. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) {
    throw new KilnError('INVALID_PLATFORM', `invalid platform "${text}"`, {
      hint: 'expected os/arch[/variant], e.g. linux/amd64',
    });
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

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
