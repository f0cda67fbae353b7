import type { Dockerfile } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import type { BuildPlan } from '../plan/planStages.ts';
import { describeLocation } from '../stage/location.ts';
import type { BuildNetwork } from './executor.ts';

/** BuildKit's entitlements, as `--allow` takes them. */
export const entitlements = ['security.insecure', 'network.host'] as const;
export type Entitlement = (typeof entitlements)[number];

/** `--allow` values checked: an unknown entitlement is a usage error, not silently ignored. */
export function parseEntitlements(values: string[]): Entitlement[] {
  for (const value of values) {
    if (!(entitlements as readonly string[]).includes(value)) {
      throw new KilnError(
        'UNKNOWN_ENTITLEMENT',
        `--allow expects ${entitlements.join(' or ')}, not "${value}"`,
        {
          exitCode: 2,
        },
      );
    }
  }
  return values as Entitlement[];
}

/**
 * Refuses, before anything runs, a RUN that asks for more than the build allows (as BuildKit
 * does): `--security=insecure` needs `security.insecure`; `--network=host` needs `network.host`
 * when the build's network is not the host's already (else it would undo `--network sandbox|none`).
 */
export function checkRunEntitlements(
  dockerfile: Dockerfile,
  plan: BuildPlan,
  options: { allow?: readonly string[]; network?: BuildNetwork },
): void {
  const allow = new Set(options.allow ?? []);
  const network = options.network ?? 'host';
  for (const index of plan.order) {
    for (const instruction of plan.stages[index]!.instructions) {
      if (instruction.kind !== 'RUN') continue;
      const where = describeLocation(dockerfile, instruction);
      if (instruction.security === 'insecure' && !allow.has('security.insecure')) {
        throw new KilnError(
          'ENTITLEMENT_REQUIRED',
          `${where}: RUN --security=insecure needs the build to be started with --allow security.insecure`,
          { hint: 'it runs the command with every capability and no seccomp filter', exitCode: 2 },
        );
      }
      if (instruction.network === 'host' && network !== 'host' && !allow.has('network.host')) {
        throw new KilnError(
          'ENTITLEMENT_REQUIRED',
          `${where}: RUN --network=host needs --allow network.host when the build runs with --network ${network}`,
          { exitCode: 2 },
        );
      }
    }
  }
}
