import { parseDockerfile } from '@kiln/dockerfile';
import { describe, expect, it } from 'vitest';
import { planStages } from '../plan/planStages.ts';
import { platformArgs } from '../plan/platformArgs.ts';
import { checkRunEntitlements, parseEntitlements } from './entitlements.ts';

function check(text: string, options: Parameters<typeof checkRunEntitlements>[2]) {
  const dockerfile = parseDockerfile(text, { fileName: 'Dockerfile' });
  const automaticArgs = platformArgs(
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'amd64' },
  );
  const plan = planStages(dockerfile, { buildArgs: new Map(), automaticArgs });
  return () => checkRunEntitlements(dockerfile, plan, options);
}

describe('checkRunEntitlements', () => {
  const insecure = 'FROM busybox\nRUN true\nRUN --security=insecure mount -t tmpfs x /mnt\n';

  it('refuses RUN --security=insecure without security.insecure, naming the line', () => {
    expect(check(insecure, {})).toThrow(expect.objectContaining({ code: 'ENTITLEMENT_REQUIRED' }));
    expect(check(insecure, {})).toThrow(/Dockerfile:3/);
    expect(check(insecure, { allow: ['security.insecure'] })).not.toThrow();
    expect(check('FROM busybox\nRUN --security=sandbox true\n', {})).not.toThrow();
  });

  it('refuses RUN --network=host only when the build network is not the host already', () => {
    const host = 'FROM busybox\nRUN --network=host true\n';
    expect(check(host, {})).not.toThrow();
    expect(check(host, { network: 'sandbox' })).toThrow(
      expect.objectContaining({ code: 'ENTITLEMENT_REQUIRED' }),
    );
    expect(check(host, { network: 'none', allow: ['network.host'] })).not.toThrow();
  });

  it('checks only the stages the build runs', () => {
    const text = 'FROM busybox AS unused\nRUN --security=insecure true\nFROM busybox\nRUN true\n';
    expect(check(text, {})).not.toThrow();
  });

  it('parses --allow values, refusing unknown ones', () => {
    expect(parseEntitlements(['security.insecure', 'network.host'])).toEqual([
      'security.insecure',
      'network.host',
    ]);
    expect(() => parseEntitlements(['device'])).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_ENTITLEMENT' }),
    );
  });
});
