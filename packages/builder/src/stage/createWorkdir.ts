import { chmod, lchown, mkdir, stat } from 'node:fs/promises';
import { imagePathOf, resolveInRoot } from './resolveInRoot.ts';
import { resolveUser } from './resolveUser.ts';

/**
 * WORKDIR's directory as BuildKit makes it (`mkdir -p`, 0755): every directory it has to create,
 * parents included, belongs to the active USER (root when none), so a later RUN as that user can
 * write there; directories that exist are left as they are. Returns the in-image paths it created.
 */
export async function createWorkdir(root: string, path: string, userSpec: string): Promise<string[]> {
  const host = await resolveInRoot(root, path);
  const missing: string[] = [];
  let current = host;
  while (current.length > root.length) {
    try {
      await stat(current);
      break;
    } catch {
      missing.unshift(current);
      current = current.slice(0, current.lastIndexOf('/'));
    }
  }
  if (missing.length === 0) return [];
  // Resolved only when something is created: an existing workdir needs no passwd entry.
  const owner = userSpec.trim() === '' ? undefined : await resolveUser(root, userSpec);
  for (const dir of missing) {
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    if (owner) await lchown(dir, owner.uid, owner.gid);
  }
  return missing.map((dir) => imagePathOf(root, dir));
}
