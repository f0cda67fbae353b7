import type { Dockerfile, Mount } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import type { BuildPlan } from '../plan/planStages.ts';
import { describeLocation } from '../stage/location.ts';
import type { BuildSecrets } from './buildSecrets.ts';
import { secretMountId, sshMountId } from './mountIds.ts';

/**
 * A `required` secret or ssh mount that no flag provides fails the build before any base is
 * pulled or any step runs. Ids holding a variable are known only at the RUN and checked there.
 */
export function checkRequiredMounts(dockerfile: Dockerfile, plan: BuildPlan, secrets: BuildSecrets): void {
  for (const index of plan.order) {
    for (const instruction of plan.stages[index]!.instructions) {
      if (instruction.kind !== 'RUN') continue;
      for (const mount of instruction.mounts) {
        const missing = missingId(mount, secrets);
        if (missing === undefined) continue;
        const where = describeLocation(dockerfile, instruction);
        throw requiredMountError(mount.type as 'secret' | 'ssh', missing, where);
      }
    }
  }
}

function missingId(mount: Mount, secrets: BuildSecrets): string | undefined {
  if (!('required' in mount) || !mount.required) return undefined;
  if (mount.type === 'secret') {
    const id = secretMountId(mount);
    return id === undefined || id.includes('$') || secrets.hasSecret(id) ? undefined : id;
  }
  const id = sshMountId(mount);
  return id.includes('$') || secrets.sshSocket(id) !== undefined ? undefined : id;
}

export function requiredMountError(type: 'secret' | 'ssh', id: string, where: string): KilnError {
  return type === 'secret'
    ? new KilnError('SECRET_MISSING', `${where}: RUN needs secret "${id}", which no --secret provides`, {
        hint: `add --secret id=${id},src=FILE or --secret id=${id},env=VARIABLE`,
        exitCode: 2,
      })
    : new KilnError('SSH_MISSING', `${where}: RUN needs ssh agent "${id}", which no --ssh provides`, {
        hint: `add --ssh ${id} (uses $SSH_AUTH_SOCK) or --ssh ${id}=SOCKET|KEYFILE`,
        exitCode: 2,
      });
}
