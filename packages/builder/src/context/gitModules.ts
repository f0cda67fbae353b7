/** One `[submodule "name"]` section of `.gitmodules`: where it sits and where it comes from. */
export interface GitModule {
  path: string;
  url: string;
}

/**
 * Reads `.gitmodules` (git-config syntax, the subset git writes: sections, `key = value`, comments).
 * Written by hand: the file is a few lines, and an ini library would not know git's quoting.
 */
export function parseGitModules(text: string): GitModule[] {
  const modules: Partial<GitModule>[] = [];
  let current: Partial<GitModule> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)[#;].*$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('[')) {
      current = /^\[submodule\s+"[^"]*"\]$/.test(line) ? {} : undefined;
      if (current) modules.push(current);
      continue;
    }
    const match = /^([A-Za-z][\w-]*)\s*=\s*(.*)$/.exec(line);
    if (!current || !match) continue;
    const value = match[2]!.replace(/^"(.*)"$/, '$1');
    if (match[1]!.toLowerCase() === 'path') current.path = value.replace(/\/+$/, '');
    if (match[1]!.toLowerCase() === 'url') current.url = value;
  }
  return modules.filter((m): m is GitModule => m.path !== undefined && m.url !== undefined);
}

/** A submodule URL relative to its superproject's (`../lib.git`), as git resolves it. */
export function resolveSubmoduleUrl(url: string, parent: string): string {
  if (!url.startsWith('./') && !url.startsWith('../')) return url;
  const base = parent.replace(/\/+$/, '');
  return new URL(url, `${base}/`).toString().replace(/\/+$/, '');
}
