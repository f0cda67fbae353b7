import { lstat } from 'node:fs/promises';

/**
 * What Docker does to a container's /proc (moby oci/defaults.go), because root in RUN is the
 * host's root: these are global, and writable by uid 0 without any capability. Read-only:
 * /proc/sys (core_pattern, binfmt_misc: a host-wide helper run as root), sysrq-trigger (reboot),
 * irq, bus, fs. Masked: files and directories that leak host state.
 */
const readonlyNames = ['bus', 'fs', 'irq', 'sys', 'sysrq-trigger'];
const maskedNames = [
  'acpi',
  'asound',
  'kcore',
  'keys',
  'latency_stats',
  'timer_list',
  'timer_stats',
  'sched_debug',
  'scsi',
];

/** The names this kernel's /proc has (a mount over a missing one would fail). */
export interface ProcMasks {
  readonly: string[];
  maskedFiles: string[];
  maskedDirs: string[];
}

export async function findProcMasks(): Promise<ProcMasks> {
  const masks: ProcMasks = { readonly: [], maskedFiles: [], maskedDirs: [] };
  const kind = async (name: string) => {
    try {
      return (await lstat(`/proc/${name}`)).isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  };
  for (const name of readonlyNames) if (await kind(name)) masks.readonly.push(name);
  for (const name of maskedNames) {
    const found = await kind(name);
    if (found === 'dir') masks.maskedDirs.push(name);
    else if (found === 'file') masks.maskedFiles.push(name);
  }
  return masks;
}

/**
 * bwrap arguments after `--proc <proc>`. bwrap's sources are host paths, so the read-only ones
 * are the host's /proc entries (these are global; /proc/sys/net shows the host's namespace).
 */
export function bwrapProcMaskArgs(masks: ProcMasks, proc: string): string[] {
  const args: string[] = [];
  for (const name of masks.readonly) args.push('--ro-bind', `/proc/${name}`, `${proc}/${name}`);
  for (const name of masks.maskedFiles) args.push('--ro-bind', '/dev/null', `${proc}/${name}`);
  for (const name of masks.maskedDirs)
    args.push('--tmpfs', `${proc}/${name}`, '--remount-ro', `${proc}/${name}`);
  return args;
}

/** Shell lines for the unshare fallback, after /proc is mounted at "$p": the sandbox's own entries. */
export function unshareProcMaskLines(masks: ProcMasks): string {
  const lines: string[] = [];
  for (const name of masks.readonly)
    lines.push(`mount --bind "$p/${name}" "$p/${name}"; mount -o remount,bind,ro "$p/${name}"`);
  for (const name of masks.maskedFiles) lines.push(`mount --bind /dev/null "$p/${name}"`);
  for (const name of masks.maskedDirs)
    lines.push(`mount -t tmpfs -o ro,nosuid,nodev,noexec tmpfs "$p/${name}"`);
  return lines.join('\n');
}
