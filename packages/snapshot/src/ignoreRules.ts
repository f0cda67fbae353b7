import type { IgnoreRule } from './types.ts';

/** Always left out: kernel filesystems and the sandbox's bind mounts, and Kiln's own dirs. */
export const builtinIgnoreRules: readonly IgnoreRule[] = [
  'proc',
  'sys',
  'dev',
  'kiln',
  'kaniko',
  'etc/resolv.conf',
  'etc/hosts',
  'etc/hostname',
];

/**
 * `maxDepth`: paths with more components than this can only be ignored through an ancestor (Infinity with
 * globs). `prefixes`: the prefix rules, when there are no globs (a walker that cannot match globs can
 * apply them itself), else undefined.
 */
export type IgnoreMatcher = ((path: string) => boolean) & {
  maxDepth: number;
  prefixes: readonly string[] | undefined;
};

/** Compiles rules to one test per path; the walk asks for every path, so a match prunes a subtree. */
export function compileIgnoreRules(rules: readonly IgnoreRule[]): IgnoreMatcher {
  const prefixes = new Set<string>();
  const globs: RegExp[] = [];
  for (const raw of rules) {
    const rule = raw.replace(/^\/+/, '').replace(/\/+$/, '');
    if (rule === '') continue;
    if (/[*?[]/.test(rule)) globs.push(globToRegExp(rule));
    else prefixes.add(rule);
  }
  const test = (path: string) => {
    if (prefixes.has(path)) return true;
    for (const glob of globs) if (glob.test(path)) return true;
    return false;
  };
  const depths = [...prefixes].map((prefix) => prefix.split('/').length);
  return Object.assign(test, {
    maxDepth: globs.length > 0 ? Number.POSITIVE_INFINITY : Math.max(0, ...depths),
    prefixes: globs.length > 0 ? undefined : [...prefixes],
  });
}

/** Tells whether a path or one of its ancestors is ignored (for paths not reached by a walk). */
export function isPathIgnored(matcher: IgnoreMatcher, path: string): boolean {
  let end = path.indexOf('/');
  while (end !== -1) {
    if (matcher(path.slice(0, end))) return true;
    end = path.indexOf('/', end + 1);
  }
  return matcher(path);
}

export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more directories; a trailing `**` anything below.
        if (glob[i + 2] === '/') {
          source += '(?:.*/)?';
          i += 2;
        } else {
          source += '.*';
          i += 1;
        }
      } else source += '[^/]*';
    } else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close === -1) source += '\\[';
      else {
        const body = glob
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = close;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
