/**
 * Docker's default capability set (moby oci/caps/defaults.go), the one RUN gets in Docker,
 * BuildKit and Buildah: 0xa80425fb as a mask.
 */
export const dockerDefaultCapabilities = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_RAW',
  'CAP_SYS_CHROOT',
  'CAP_MKNOD',
  'CAP_AUDIT_WRITE',
  'CAP_SETFCAP',
] as const;

/** bwrap arguments that leave exactly the default set in the bounding, permitted and effective sets. */
export function bwrapCapabilityArgs(): string[] {
  return ['--cap-drop', 'ALL', ...dockerDefaultCapabilities.flatMap((cap) => ['--cap-add', cap])];
}

const capabilityBits: Record<(typeof dockerDefaultCapabilities)[number], number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_RAW: 13,
  CAP_SYS_CHROOT: 18,
  CAP_MKNOD: 27,
  CAP_AUDIT_WRITE: 29,
  CAP_SETFCAP: 31,
};

/** The set as a mask (0xa80425fb), as /proc/self/status shows it and kiln-sandbox-exec takes it. */
export const dockerDefaultCapabilityMask = dockerDefaultCapabilities.reduce(
  (mask, cap) => mask + 2 ** capabilityBits[cap],
  0,
);
