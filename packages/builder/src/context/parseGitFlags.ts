import { KilnError } from '@kiln/errors';
import type { GitContextOptions } from './gitContext.ts';

const keys = {
  branch: 'branch',
  'single-branch': 'singleBranch',
  'recurse-submodules': 'recurseSubmodules',
  'insecure-skip-tls': 'insecureSkipTls',
} as const;

/**
 * Kaniko's `--git` values: `key=value`, one per flag as Kaniko parses them, or comma-separated as its
 * README writes them (`branch=dev,single-branch=true`; Kaniko itself would read that whole text as
 * the branch name). Booleans as Go's `strconv.ParseBool`; an unknown key is refused, not ignored.
 */
export function parseGitFlags(values: string[]): GitContextOptions {
  const options: GitContextOptions = {};
  for (const value of values) {
    for (const pair of value.split(/,(?=[a-z-]+=)/)) {
      const eq = pair.indexOf('=');
      const key = pair.slice(0, eq) as keyof typeof keys;
      const field = eq > 0 ? keys[key] : undefined;
      if (field === undefined) {
        throw new KilnError(
          'INVALID_FLAG',
          `--git ${pair}: expected branch=, single-branch=, recurse-submodules= or insecure-skip-tls=`,
          {
            exitCode: 2,
          },
        );
      }
      const text = pair.slice(eq + 1);
      if (field === 'branch') {
        options.branch = text;
        continue;
      }
      if (/^(1|t|true)$/i.test(text)) options[field] = true;
      else if (/^(0|f|false)$/i.test(text)) options[field] = false;
      else throw new KilnError('INVALID_FLAG', `--git ${pair}: ${text} is not a boolean`, { exitCode: 2 });
    }
  }
  return options;
}
