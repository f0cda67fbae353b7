import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBusyboxImage, type PushedImage, runProcess } from '@kiln/fixtures/images';
import { type RegistryMode, startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKiln } from './kilnProcess.ts';

let work: string;
let plain: TestRegistry;
let base: PushedImage;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kiln-e2e-auth-'));
  plain = await startRegistry({ mode: 'plain' });
  base = await ensureBusyboxImage(plain);
});
afterAll(async () => {
  await plain?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('kiln build pushes with the credentials pipelines give it', () => {
  for (const mode of ['basic', 'token', 'tls'] as RegistryMode[]) {
    it(`${mode} registry, credentials from DOCKER_CONFIG`, { timeout: 120_000 }, async () => {
      const registry = await startRegistry({ mode });
      try {
        const context = join(work, mode);
        await mkdir(context, { recursive: true });
        await writeFile(join(context, 'Dockerfile'), `FROM ${base.reference}\nRUN echo ${mode} > /mode\n`);
        const destination = `${registry.host}/auth/${mode}:1`;
        const tlsFlags = registry.caFile
          ? ['--registry-certificate', `${registry.host}=${registry.caFile}`]
          : ['--insecure-registry', registry.host];
        const result = await runKiln(
          [
            'build',
            '--context',
            context,
            '--destination',
            destination,
            '--insecure-registry',
            plain.host,
            ...tlsFlags,
          ],
          { DOCKER_CONFIG: await registry.dockerConfig() },
        );
        expect(result.code, result.stderr).toBe(0);
        // skopeo wants a dir holding only CA files (*.crt) for this registry.
        const certDir = join(context, 'certs');
        if (registry.caFile) {
          await mkdir(certDir, { recursive: true });
          await copyFile(registry.caFile, join(certDir, 'ca.crt'));
        }
        const inspect = await runProcess('skopeo', [
          'inspect',
          ...(registry.caFile ? ['--cert-dir', certDir] : ['--tls-verify=false']),
          ...(registry.username ? ['--creds', `${registry.username}:${registry.password}`] : []),
          `docker://${destination}`,
        ]);
        expect(inspect.code, inspect.stderr).toBe(0);
        expect(JSON.parse(inspect.stdout).Digest).toBe(result.stdout.split('\n')[0]);
      } finally {
        await registry.stop();
      }
    });
  }
});
