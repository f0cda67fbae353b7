import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertAptMirrorReachable,
  ensureDebianImage,
  machineAptMirror,
  type PushedImage,
} from '@kiln/fixtures/images';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PodmanTestbed, startPodmanTestbed } from './executor/executorTestbed.ts';
import { contextsDir, runChecked, runKiln } from './kilnProcess.ts';
import { extractStepLayer, listTreeScript, treeDifferences } from './workloadLayers.ts';

const suite = 'bookworm';
let registry: TestRegistry;
let base: PushedImage;
let testbed: PodmanTestbed;
let mirror: string;

beforeAll(async () => {
  // The machine's own mirror, for debootstrap and for apt in the build; a dead one fails here, loudly.
  const found = machineAptMirror(suite);
  if (found === undefined) throw new Error(`no apt source on this machine names ${suite}`);
  mirror = found;
  await assertAptMirrorReachable(mirror, suite);
  registry = await startRegistry({ mode: 'plain' });
  base = await ensureDebianImage(registry, { mirror });
  testbed = await startPodmanTestbed('workloads-debian');
}, 1_800_000);
afterAll(async () => {
  await testbed?.stop();
  await registry?.stop();
});

describe('a Debian workload built with the sandbox executor', () => {
  it('installs curl, ca-certificates, git, ping and sudo with apt; the image runs them under podman', {
    timeout: 900_000,
  }, async () => {
    const context = join(testbed.work, 'context');
    await mkdir(context);
    await copyFile(join(contextsDir, 'workload-debian/Dockerfile'), join(context, 'Dockerfile'));
    await copyFile(listTreeScript, join(context, 'list-tree.sh'));
    await writeFile(join(context, 'sources.list'), `deb ${mirror} ${suite} main\n`);
    const destination = `${registry.host}/workloads/debian-tools:1`;
    const layout = join(testbed.work, 'layout');
    const built = await runKiln([
      'build',
      '--executor',
      'sandbox',
      '--context',
      context,
      '--build-arg',
      `BASE=${base.reference}`,
      '--destination',
      destination,
      '--insecure-registry',
      registry.host,
      '--oci-layout-path',
      layout,
    ]);
    expect(built.code, built.stderr).toBe(0);

    // apt's RUN layer as Kiln wrote it, unpacked by GNU tar (an independent reader).
    const layer = await extractStepLayer(layout, 'apt-get install', join(testbed.work, 'layer'));
    const sudo = await stat(join(layer, 'usr/bin/sudo'));
    expect({ mode: (sudo.mode & 0o7777).toString(8), uid: sudo.uid }).toEqual({ mode: '4755', uid: 0 });
    expect(await runChecked('getcap', [join(layer, 'usr/bin/ping')])).toContain('cap_net_raw=ep');
    const perlbug = await stat(join(layer, 'usr/bin/perlbug'));
    const perlthanks = await stat(join(layer, 'usr/bin/perlthanks'));
    expect(perlthanks.ino).toBe(perlbug.ino);
    expect((await readFile(join(layer, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).length).toBeGreaterThan(
      100_000,
    );

    const run = (script: string) =>
      testbed.podman.run(['run', '--rm', '--pull', 'always', destination, 'sh', '-c', script], {
        timeoutMs: 300_000,
      });
    const versions = await run('curl --version && git --version');
    expect(versions.code, versions.stderr).toBe(0);
    expect(versions.stdout).toMatch(/^curl \d+\.\d+/m);
    expect(versions.stdout).toMatch(/^git version \d+\.\d+/m);

    const checks = await run(
      [
        'stat -c "%n %a %u:%g" /usr/bin/sudo /usr/bin/passwd /usr/bin/mount',
        'getcap /usr/bin/ping',
        'test "$(stat -c %i /usr/bin/perlbug)" = "$(stat -c %i /usr/bin/perlthanks)" && echo perl-linked',
        // every package configured: no half-installed package, no pending trigger
        'dpkg --audit && echo dpkg-clean',
        // every file of every package present with its content; changed conffiles aside, and apt's
        // lists/partial, which the Dockerfile's own cleanup removes (as Docker's Debian images do)
        'bad=$(dpkg --verify 2>&1 | grep -v -e "^??5?????? c " -e " /var/lib/apt/lists/partial$" || true)',
        'if [ -z "$bad" ]; then echo files-verified; else echo "$bad"; fi',
        'test -s /etc/ssl/certs/ca-certificates.crt && ldconfig -p | grep -q libcurl.so.4 && echo triggers-ran',
      ].join(' && '),
    );
    expect(checks.code, checks.stderr).toBe(0);
    expect(checks.stdout).toContain('/usr/bin/sudo 4755 0:0');
    expect(checks.stdout).toContain('/usr/bin/passwd 4755 0:0');
    expect(checks.stdout).toContain('/usr/bin/mount 4755 0:0');
    expect(checks.stdout).toMatch(/\/usr\/bin\/ping cap_net_raw=ep/);
    expect(checks.stdout).toContain('perl-linked');
    expect(checks.stdout).toContain('dpkg-clean');
    expect(checks.stdout).toContain('files-verified');
    expect(checks.stdout).toContain('triggers-ran');

    // Every path, mode, owner, link, content hash and capability RUN saw is what the container sees.
    const atBuild = await run('cat /kiln-tree.txt');
    const atRun = await run('list-tree');
    expect(atRun.code, atRun.stderr).toBe(0);
    expect(atBuild.stdout.split('\n').length).toBeGreaterThan(10_000);
    expect(treeDifferences(atBuild.stdout, atRun.stdout).slice(0, 20)).toEqual([]);
  });
});
