/**
 * Syscall numbers of the calls the RUN filter treats specially, as [x86_64, aarch64]; null where
 * the architecture has no such call. Generated once from Debian's linux-libc-dev 6.1 headers:
 *
 *   for n in <names>; do
 *     x=$(awk -v n=__NR_$n '$1=="#define" && $2==n {print $3}' /usr/include/x86_64-linux-gnu/asm/unistd_64.h)
 *     a=$(awk -v n=__NR_$n '$1=="#define" && $2==n && $3~/^[0-9]+$/ {print $3}' /usr/include/asm-generic/unistd.h)
 *     echo "  $n: [${x:-null}, ${a:-null}],"
 *   done
 *
 * (aarch64 uses the generic table.) Numbers never change once assigned, so this stays valid.
 */
export const syscallNumbers = {
  acct: [163, 89],
  add_key: [248, 217],
  bpf: [321, 280],
  clock_settime: [227, 112],
  clone: [56, 220],
  clone3: [435, 435],
  create_module: [174, null],
  delete_module: [176, 106],
  fanotify_init: [300, 262],
  finit_module: [313, 273],
  fsconfig: [431, 431],
  fsmount: [432, 432],
  fsopen: [430, 430],
  fspick: [433, 433],
  get_kernel_syms: [177, null],
  get_mempolicy: [239, 236],
  init_module: [175, 105],
  io_uring_enter: [426, 426],
  io_uring_register: [427, 427],
  io_uring_setup: [425, 425],
  ioperm: [173, null],
  iopl: [172, null],
  kcmp: [312, 272],
  kexec_file_load: [320, 294],
  kexec_load: [246, 104],
  keyctl: [250, 219],
  lookup_dcookie: [212, 18],
  mbind: [237, 235],
  migrate_pages: [256, 238],
  mount: [165, 40],
  mount_setattr: [442, 442],
  move_mount: [429, 429],
  move_pages: [279, 239],
  name_to_handle_at: [303, 264],
  nfsservctl: [180, 42],
  open_by_handle_at: [304, 265],
  open_tree: [428, 428],
  perf_event_open: [298, 241],
  personality: [135, 92],
  pivot_root: [155, 41],
  process_madvise: [440, 440],
  query_module: [178, null],
  quotactl: [179, 60],
  quotactl_fd: [443, 443],
  reboot: [169, 142],
  request_key: [249, 218],
  set_mempolicy: [238, 237],
  set_mempolicy_home_node: [450, 450],
  setdomainname: [171, 162],
  sethostname: [170, 161],
  setns: [308, 268],
  settimeofday: [164, 170],
  swapoff: [168, 225],
  swapon: [167, 224],
  _sysctl: [156, null],
  syslog: [103, 116],
  sysfs: [139, null],
  umount2: [166, 39],
  unshare: [272, 97],
  uselib: [134, null],
  userfaultfd: [323, 282],
  ustat: [136, null],
  vhangup: [153, 58],
} as const satisfies Record<string, readonly [number | null, number | null]>;

export type SyscallName = keyof typeof syscallNumbers;
