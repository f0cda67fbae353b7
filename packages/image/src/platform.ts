import { arch } from 'node:os';
import { KilnError } from '@kiln/errors';
import type { Platform } from './types.ts';

const nodeArchToOci: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** The platform of the machine Kiln runs on (BUILDPLATFORM, and TARGETPLATFORM by default). */
export function hostPlatform(): Platform {
  return { os: 'linux', architecture: nodeArchToOci[arch()] ?? arch() };
}

/** `linux/arm64/v8` → Platform; errors name the flag the value came from. */
export function parsePlatform(text: string, source = '--custom-platform'): Platform {
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) {
    throw new KilnError('INVALID_PLATFORM', `${source} "${text}" is not os/arch[/variant]`, {
      hint: 'e.g. linux/amd64 or linux/arm64/v8',
    });
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
