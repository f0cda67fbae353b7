import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** The first executable called `name` on the host's PATH (plus the sbin dirs root expects). */
export async function findExecutable(
  name: string,
  pathVariable = process.env.PATH ?? '',
): Promise<string | undefined> {
  const dirs = [
    ...pathVariable.split(delimiter),
    '/usr/local/sbin',
    '/usr/sbin',
    '/sbin',
    '/usr/bin',
    '/bin',
  ];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
