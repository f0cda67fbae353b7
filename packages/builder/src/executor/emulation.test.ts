import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDockerfile } from '@kiln/dockerfile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planStages } from '../plan/planStages.ts';
import { platformArgs } from '../plan/platformArgs.ts';
import { checkForeignRuns } from './checkForeignRuns.ts';
import { emulationStatus } from './emulation.ts';

// What Debian's qemu-user-static registers (update-binfmts), as /proc shows it.
const aarch64 = (state: 'enabled' | 'disabled', flags: string) =>
  [
    state,
    'interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P',
    `flags: ${flags}`,
    'offset 0',
    'magic 7f454c460201010000000000000000000200b700',
    'mask ffffffffffffff00fffffffffffffffffeffffff',
    '',
  ].join('\n');
const arm = [
  'enabled',
  'interpreter /usr/libexec/qemu-binfmt/arm-binfmt-P',
  'flags: POCF',
  'offset 0',
  'magic 7f454c4601010100000000000000000002002800',
  'mask ffffffffffffff00fffffffffffffffffeffffff',
  '',
].join('\n');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-binfmt-'));
  await writeFile(join(dir, 'status'), 'enabled\n');
  await writeFile(join(dir, 'register'), '');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('emulationStatus', () => {
  it('finds an enabled handler with flag F whose magic is that architecture’s ELF header', async () => {
    await writeFile(join(dir, 'qemu-arm'), arm);
    await writeFile(join(dir, 'qemu-aarch64'), aarch64('enabled', 'POCF'));
    expect(await emulationStatus('arm64', dir)).toEqual({
      ok: true,
      handler: 'qemu-aarch64',
      interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P',
    });
    expect(await emulationStatus('arm', dir)).toMatchObject({ ok: true, handler: 'qemu-arm' });
    // Names do not count, only the magic: no handler here runs x86-64 or riscv64 binaries.
    expect(await emulationStatus('amd64', dir)).toMatchObject({ ok: false });
    expect(await emulationStatus('riscv64', dir)).toMatchObject({ ok: false });
  });

  it('refuses a disabled handler, one without F, and binfmt_misc disabled or absent', async () => {
    await writeFile(join(dir, 'qemu-aarch64'), aarch64('disabled', 'POCF'));
    expect(await emulationStatus('arm64', dir)).toEqual({
      ok: false,
      reason: 'no enabled binfmt_misc handler for arm64 binaries',
    });
    await writeFile(join(dir, 'qemu-aarch64'), aarch64('enabled', 'POC'));
    expect(await emulationStatus('arm64', dir)).toMatchObject({ ok: false, reason: /lacks flag F/ });
    await writeFile(join(dir, 'qemu-aarch64'), aarch64('enabled', 'F'));
    await writeFile(join(dir, 'status'), 'disabled\n');
    expect(await emulationStatus('arm64', dir)).toMatchObject({ ok: false, reason: /disabled/ });
    expect(await emulationStatus('arm64', join(dir, 'absent'))).toMatchObject({
      ok: false,
      reason: /not mounted/,
    });
  });
});

describe('checkForeignRuns', () => {
  const amd64 = { os: 'linux', architecture: 'amd64' };
  const arm64 = { os: 'linux', architecture: 'arm64' };
  const check = (text: string, executor: 'sandbox' | 'container', binfmtDir = dir) => {
    const dockerfile = parseDockerfile(text, { fileName: 'Dockerfile' });
    const plan = planStages(dockerfile, { buildArgs: new Map(), automaticArgs: platformArgs(arm64, amd64) });
    return checkForeignRuns(dockerfile, plan, { executor, target: arm64, host: amd64, binfmtDir });
  };
  const cross = [
    'FROM --platform=$BUILDPLATFORM busybox AS build',
    'ARG TARGETARCH',
    'RUN echo $TARGETARCH > /out',
    'FROM busybox',
    'COPY --from=build /out /out',
    '',
  ].join('\n');
  const foreign = 'FROM busybox\nENV A=1\nRUN uname -m > /arch\n';

  it('the container executor refuses a foreign RUN before any work, and runs the cross-compile pattern', async () => {
    await expect(check(foreign, 'container')).rejects.toMatchObject({
      code: 'FOREIGN_RUN_UNSUPPORTED',
      exitCode: 2,
      message: expect.stringMatching(
        /^Dockerfile:3: RUN for linux\/arm64 cannot run in the container executor/,
      ),
      hint: expect.stringContaining('FROM --platform=$BUILDPLATFORM'),
    });
    await expect(check(cross, 'container')).resolves.toBeUndefined();
    // A stage FROM a build-platform stage runs on the build platform too.
    await expect(
      check(`${cross}FROM build AS more\nRUN true\nFROM busybox\nCOPY --from=more /out /o\n`, 'container'),
    ).resolves.toBeUndefined();
  });

  it('the sandbox needs a binfmt_misc handler, and says how to register one', async () => {
    await expect(check(foreign, 'sandbox')).rejects.toMatchObject({
      code: 'EMULATION_UNAVAILABLE',
      exitCode: 2,
      message:
        'Dockerfile:3: RUN for linux/arm64 needs QEMU user emulation: no enabled binfmt_misc handler for arm64 binaries',
      hint: expect.stringContaining('update-binfmts --enable qemu-aarch64'),
    });
    await writeFile(join(dir, 'qemu-aarch64'), aarch64('enabled', 'POCF'));
    await expect(check(foreign, 'sandbox')).resolves.toBeUndefined();
    await expect(check(cross, 'sandbox', join(dir, 'absent'))).resolves.toBeUndefined();
  });
});
