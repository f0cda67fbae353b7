import { posix } from 'node:path';
import type { SecretMount, SshMount } from '@kiln/dockerfile';

/** BuildKit: `id=` (or `source=`), else the target's base name; undefined when neither is given. */
export function secretMountId(mount: SecretMount): string | undefined {
  if (mount.id !== undefined && mount.id !== '') return mount.id;
  return mount.target ? posix.basename(mount.target) : undefined;
}

export function sshMountId(mount: SshMount): string {
  return mount.id || 'default';
}
