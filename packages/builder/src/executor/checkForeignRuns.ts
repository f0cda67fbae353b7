import type { Dockerfile } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import { formatPlatform, type Platform } from '@kiln/image';
import type { BuildPlan } from '../plan/planStages.ts';
import { describeLocation } from '../stage/location.ts';
import { binfmtMiscDir, emulationStatus } from './emulation.ts';
import type { ExecutorKind } from './executor.ts';

export interface ForeignRunOptions {
  executor: ExecutorKind;
  target: Platform;
  host: Platform;
  /** binfmt_misc's mount (tests pass a fake one). */
  binfmtDir?: string;
}

/**
 * Refuses, before anything runs, a RUN for another architecture the build cannot run: the
 * container executor runs native binaries only; the sandbox runs foreign ones through QEMU
 * user emulation registered with binfmt_misc (flag F), which must be there.
 */
export async function checkForeignRuns(
  dockerfile: Dockerfile,
  plan: BuildPlan,
  options: ForeignRunOptions,
): Promise<void> {
  const checked = new Set<string>();
  for (const index of plan.order) {
    const stage = plan.stages[index]!;
    const platform = stagePlatform(plan, index, options.target);
    if (platform.architecture === options.host.architecture) continue;
    const run = stage.instructions.find((instruction) => instruction.kind === 'RUN');
    if (!run) continue;
    const where = describeLocation(dockerfile, run);
    const wanted = formatPlatform(platform);
    if (options.executor === 'container') {
      throw new KilnError(
        'FOREIGN_RUN_UNSUPPORTED',
        `${where}: RUN for ${wanted} cannot run in the container executor, which runs ${formatPlatform(options.host)} binaries only`,
        {
          hint: 'build that stage FROM --platform=$BUILDPLATFORM and cross-compile for $TARGETARCH, or use the sandbox executor (QEMU emulation)',
          exitCode: 2,
        },
      );
    }
    if (checked.has(platform.architecture)) continue;
    checked.add(platform.architecture);
    const status = await emulationStatus(platform.architecture, options.binfmtDir ?? binfmtMiscDir);
    if (!status.ok) {
      const qemu = qemuName(platform.architecture);
      throw new KilnError(
        'EMULATION_UNAVAILABLE',
        `${where}: RUN for ${wanted} needs QEMU user emulation: ${status.reason}`,
        {
          hint: `register it (Debian: apt-get install qemu-user-static, then update-binfmts --enable qemu-${qemu}, or: cat /usr/lib/binfmt.d/qemu-${qemu}.conf > /proc/sys/fs/binfmt_misc/register), or build that stage FROM --platform=$BUILDPLATFORM`,
          exitCode: 2,
        },
      );
    }
  }
}

/** The platform a stage's RUN executes for: FROM another stage inherits that stage's. */
export function stagePlatform(plan: BuildPlan, index: number, target: Platform): Platform {
  let stage = plan.stages[index]!;
  while (stage.baseStage !== undefined) stage = plan.stages[stage.baseStage]!;
  return stage.platform ?? target;
}

const qemuNames: Record<string, string> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  '386': 'i386',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  arm: 'arm',
};

function qemuName(architecture: string): string {
  return qemuNames[architecture] ?? architecture;
}
