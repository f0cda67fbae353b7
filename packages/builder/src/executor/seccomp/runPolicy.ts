import type { SyscallName } from './syscallNumbers.ts';

/**
 * What RUN may not call: Docker's default seccomp profile (moby profiles/seccomp/default.json)
 * turned around into a deny list for a process holding Docker's default capabilities. Docker
 * allows these only with a capability RUN does not get, or never; everything else is allowed.
 * Cross-checked against the copy podman ships in /usr/share/containers/seccomp.json, which is
 * looser (it leaves mount, unshare, clone, keyctl, pivot_root to the capability checks).
 */
export type SyscallRule =
  /** ERRNO(EPERM), as Docker answers. */
  | { name: SyscallName; action: 'deny' }
  /** ERRNO(ENOSYS): clone3 cannot be filtered by flags (they sit in memory), so libc falls back to clone. */
  | { name: SyscallName; action: 'enosys' }
  /** EPERM when the low 32 bits of the first argument share a bit with `mask`. */
  | { name: SyscallName; action: 'deny-flags'; mask: number }
  /** EPERM unless the low 32 bits of the first argument are one of `values`. */
  | { name: SyscallName; action: 'allow-values'; values: number[] };

const denied = (...names: SyscallName[]): SyscallRule[] => names.map((name) => ({ name, action: 'deny' }));

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
export const cloneNamespaceFlags = 0x7e020000;

// Docker's allowed personalities: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query.
export const allowedPersonalities = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

export const runSyscallRules: readonly SyscallRule[] = [
  // CAP_SYS_ADMIN in Docker's profile: mounts, namespaces, and the new mount API.
  ...denied('mount', 'umount2', 'pivot_root', 'unshare', 'setns'),
  ...denied('open_tree', 'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr'),
  ...denied('bpf', 'perf_event_open', 'fanotify_init', 'lookup_dcookie', 'quotactl', 'quotactl_fd'),
  ...denied('sethostname', 'setdomainname', 'name_to_handle_at'),
  { name: 'clone', action: 'deny-flags', mask: cloneNamespaceFlags },
  { name: 'clone3', action: 'enosys' },
  // CAP_DAC_READ_SEARCH: file handles open any inode on the filesystem, outside any root.
  ...denied('open_by_handle_at'),
  // CAP_SYSLOG, CAP_SYS_BOOT, CAP_SYS_MODULE, CAP_SYS_PACCT, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_SYS_TTY_CONFIG.
  ...denied('syslog', 'reboot', 'kexec_load', 'kexec_file_load'),
  ...denied(
    'init_module',
    'finit_module',
    'delete_module',
    'create_module',
    'query_module',
    'get_kernel_syms',
  ),
  ...denied('acct', 'iopl', 'ioperm', 'settimeofday', 'clock_settime', 'vhangup'),
  // CAP_SYS_PTRACE and CAP_SYS_NICE.
  ...denied('kcmp', 'process_madvise'),
  ...denied(
    'mbind',
    'set_mempolicy',
    'get_mempolicy',
    'set_mempolicy_home_node',
    'migrate_pages',
    'move_pages',
  ),
  // Never allowed by Docker: kernel keyrings are not namespaced, the rest is obsolete or risky.
  ...denied('keyctl', 'add_key', 'request_key', 'userfaultfd', 'swapon', 'swapoff'),
  ...denied('uselib', 'ustat', 'sysfs', '_sysctl', 'nfsservctl'),
  ...denied('io_uring_setup', 'io_uring_enter', 'io_uring_register'),
  { name: 'personality', action: 'allow-values', values: allowedPersonalities },
];
