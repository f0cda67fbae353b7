import { join } from 'node:path';
import { runChecked } from '../kilnProcess.ts';

/**
 * buildah with its storage under `work` (vfs, chroot isolation on the host): nothing of the
 * machine's own container storage is read or touched.
 */
export function buildah(work: string, args: string[]): Promise<string> {
  return runChecked('buildah', [
    '--root',
    join(work, 'buildah-root'),
    '--runroot',
    join(work, 'buildah-run'),
    '--storage-driver',
    'vfs',
    ...args,
  ]);
}

export interface BuildahBuild {
  work: string;
  context: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Where the image is pushed (a plain-HTTP registry). */
  destination: string;
}

/** `buildah bud` the context, then push the image to `destination`. */
export async function buildahBuildAndPush(build: BuildahBuild): Promise<void> {
  const local = `localhost/conformance-${Math.random().toString(36).slice(2, 10)}`;
  await buildah(build.work, [
    'bud',
    '--isolation',
    'chroot',
    '--format',
    'docker',
    '--tls-verify=false',
    ...Object.entries(build.buildArgs).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
    '-f',
    build.dockerfile,
    '-t',
    local,
    build.context,
  ]);
  await buildah(build.work, ['push', '--tls-verify=false', local, `docker://${build.destination}`]);
  await buildah(build.work, ['rmi', local]);
}

/** Buildah's label on every image it builds; not something a Dockerfile asked for. */
export const buildahVersionLabel = 'io.buildah.version';
