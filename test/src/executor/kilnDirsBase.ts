import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildOciLayout,
  busyboxImageConfig,
  type ImageRegistry,
  type PushedImage,
  pushOciLayout,
  writeBusyboxRootfs,
} from '@kiln/fixtures/images';

export const kilnDirsBaseRepository = 'e2e/kiln-dirs-base';

/**
 * Pushes `e2e/kiln-dirs-base:1`: busybox plus its own `/kiln`, `/kaniko` and `/busybox`, every file
 * a decoy (a `node` and `executor` that exit 99, a `config.json` with a wrong password for
 * `credentialsHost`, a CA bundle that is no PEM). Container mode must keep Kiln's own files: were one
 * of these extracted, the next RUN as a user with groups (Kiln's Node), the push, or the shell fails.
 */
export async function pushKilnDirsBase(
  registry: ImageRegistry,
  work: string,
  credentialsHost: string,
): Promise<PushedImage> {
  const dir = await mkdtemp(join(work, 'kiln-dirs-base-'));
  const rootfs = join(dir, 'rootfs');
  try {
    await writeBusyboxRootfs(rootfs);
    const decoy = '#!/bin/sh\necho "decoy from the base image: $0" >&2\nexit 99\n';
    const files: Record<string, string> = {
      'kiln/node': decoy,
      'kiln/executor': decoy,
      'kiln/kiln.mjs': 'process.exit(99);\n',
      'kiln/.executor-image': 'not the kiln executor image\n',
      'kaniko/executor': decoy,
      'kaniko/.docker/config.json': `${JSON.stringify({
        auths: { [credentialsHost]: { auth: Buffer.from('kiln:wrong-password').toString('base64') } },
      })}\n`,
      'kaniko/ssl/certs/additional-ca-cert-bundle.crt': 'not a certificate\n',
      'busybox/sh': decoy,
    };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(rootfs, path, '..'), { recursive: true });
      await writeFile(join(rootfs, path), content);
      await chmod(join(rootfs, path), 0o755);
    }
    const layoutDir = join(dir, 'layout');
    await buildOciLayout({
      rootfs,
      layoutDir,
      tag: 'base',
      config: { ...busyboxImageConfig, createdBy: 'kiln e2e: busybox with decoy /kiln, /kaniko, /busybox' },
    });
    return await pushOciLayout({
      layoutDir,
      layoutTag: 'base',
      registry,
      repository: kilnDirsBaseRepository,
      tag: '1',
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
