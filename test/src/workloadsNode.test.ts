import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureNodeImage, type PushedImage } from '@kiln/fixtures/images';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PodmanTestbed, startPodmanTestbed } from './executor/executorTestbed.ts';
import { contextsDir, runChecked, runKiln } from './kilnProcess.ts';
import { listTreeScript, treeDifferences } from './workloadLayers.ts';

let registry: TestRegistry;
let base: PushedImage;
let testbed: PodmanTestbed;

beforeAll(async () => {
  registry = await startRegistry({ mode: 'plain' });
  base = await ensureNodeImage(registry);
  testbed = await startPodmanTestbed('workloads-node');
}, 1_800_000);
afterAll(async () => {
  await testbed?.stop();
  await registry?.stop();
});

/** The machine's npm registry and CA bundle, as npm itself and Node see them here; never a fixed host. */
async function machineNpmrc(): Promise<{ npmrc: string; caBundle: Buffer }> {
  const registryUrl = (await runChecked('npm', ['config', 'get', 'registry'])).trim();
  const caFile =
    process.env.NODE_EXTRA_CA_CERTS ?? process.env.SSL_CERT_FILE ?? '/etc/ssl/certs/ca-certificates.crt';
  return {
    npmrc: `registry=${registryUrl}\ncafile=/run/npm-build/ca.pem\n`,
    caBundle: await readFile(caFile),
  };
}

describe('a Node workload built with the sandbox executor', () => {
  it('runs npm install of express and lodash; the image serves with express under podman', {
    timeout: 900_000,
  }, async () => {
    const context = join(testbed.work, 'context');
    await cp(join(contextsDir, 'workload-node'), context, { recursive: true });
    await cp(listTreeScript, join(context, 'list-tree.sh'));
    await mkdir(join(context, 'npm'));
    const { npmrc, caBundle } = await machineNpmrc();
    await writeFile(join(context, 'npm/npmrc'), npmrc);
    await writeFile(join(context, 'npm/ca.pem'), caBundle);
    const destination = `${registry.host}/workloads/node-app:1`;
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
    ]);
    expect(built.code, built.stderr).toBe(0);

    const run = (args: string[]) =>
      testbed.podman.run(['run', '--rm', '--pull', 'always', destination, ...args], { timeoutMs: 300_000 });
    const ok = await run([]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe('ok');

    const served = await run([
      'node',
      '-e',
      [
        "const _ = require('lodash');",
        "const app = require('express')();",
        "app.get('/', (req, res) => res.send(_.join(['served', 'by', 'express'], ' ')));",
        'const server = app.listen(0, "127.0.0.1", async () => {',
        "  const response = await fetch('http://127.0.0.1:' + server.address().port + '/');",
        '  console.log(await response.text());',
        '  server.close();',
        '});',
      ].join('\n'),
    ]);
    expect(served.code, served.stderr).toBe(0);
    expect(served.stdout.trim()).toBe('served by express');

    // npm sees the tree it installed as complete; nothing of the build-only mount is left behind.
    const tree = await run([
      'sh',
      '-c',
      'npm ls --all --parseable | wc -l; npm ls --all >/dev/null && echo tree-ok; ls -A /run/npm-build 2>&1; true',
    ]);
    expect(tree.code, tree.stdout + tree.stderr).toBe(0);
    const [packages, treeOk, mount] = tree.stdout.trim().split('\n');
    expect(Number(packages)).toBeGreaterThan(30);
    expect(treeOk).toBe('tree-ok');
    expect(mount).toMatch(/No such file or directory/);

    // Every path, mode, owner, link and content hash RUN saw is what the container sees.
    const atBuild = await run(['cat', '/kiln-tree.txt']);
    const atRun = await run(['list-tree']);
    expect(atRun.code, atRun.stderr).toBe(0);
    expect(atBuild.stdout.split('\n').length).toBeGreaterThan(10_000);
    expect(treeDifferences(atBuild.stdout, atRun.stdout).slice(0, 20)).toEqual([]);
  });
});
