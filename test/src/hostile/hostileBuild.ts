import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ProcessResult } from '@kiln/fixtures/images';
import { runKiln } from '../kilnProcess.ts';

export interface HostileContext {
  /** Relative path → content. */
  files?: Record<string, string | Uint8Array>;
  /** Relative path → link target, written as given (absolute targets are host paths). */
  links?: Record<string, string>;
}

/** Writes a context directory (a `Dockerfile` is just one of its files, or a link). */
export async function writeContext(dir: string, context: HostileContext): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [path, content] of Object.entries(context.files ?? {})) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  for (const [path, target] of Object.entries(context.links ?? {})) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await symlink(target, join(dir, path));
  }
  return dir;
}

export interface HostileBuildResult extends ProcessResult {
  /** The KilnError code the JSON reporter printed, when the build failed. */
  errorCode: string | undefined;
  /** The error's message and the `error:` lines printed: what must name no host path. */
  errorText: string;
  /** The docker-archive written by a successful build (uncompressed layers), else empty. */
  archive: Buffer;
}

/**
 * `kiln build --executor sandbox` of a context, JSON log lines, the image written to a
 * docker-archive (its layers are plain tar, so secret bytes in any layer show up in a byte search).
 */
export async function hostileBuild(
  contextDir: string,
  outDir: string,
  baseReference: string,
  registryHost: string,
  extra: string[] = [],
): Promise<HostileBuildResult> {
  await mkdir(outDir, { recursive: true });
  const tarPath = join(outDir, 'image.tar');
  const result = await runKiln([
    'build',
    '--executor',
    'sandbox',
    '--context',
    contextDir,
    '--no-push',
    '--tar-path',
    tarPath,
    '--insecure-registry',
    registryHost,
    '--build-arg',
    `BASE=${baseReference}`,
    '--log-format',
    'json',
    ...extra,
  ]);
  let errorCode: string | undefined;
  let errorText = '';
  for (const line of `${result.stdout}\n${result.stderr}`.split('\n')) {
    if (!line.startsWith('{')) {
      if (/^(error|\s+hint):/.test(line)) errorText += `${line}\n`;
      continue;
    }
    try {
      const parsed = JSON.parse(line) as { type?: string; code?: string; message?: string };
      if (parsed.type === 'error') {
        errorCode = parsed.code;
        errorText += `${parsed.message}\n`;
      }
    } catch {
      // not a JSON line
    }
  }
  const archive = result.code === 0 ? await readFile(tarPath) : Buffer.alloc(0);
  return { ...result, errorCode, errorText, archive };
}
