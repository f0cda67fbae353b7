import { KilnError } from '@kiln/errors';

/** Kaniko flags Kiln takes under another name (old camelCase spellings included). */
const renamed: Record<string, string> = {
  snapshotMode: 'snapshot-mode',
  tarPath: 'tar-path',
  'build-arg': 'build-arg',
  // Deprecated spellings Kaniko v1.24 still accepts.
  customPlatform: 'custom-platform',
  'whitelist-var-run': 'ignore-var-run',
};

/** Kaniko flags that need no action in Kiln (what they ask for is how Kiln always works). */
const accepted: Record<string, 'bool' | 'value'> = {
  cleanup: 'bool', // the work dir is always removed
  'use-new-run': 'bool', // every RUN is snapshotted on its own
  'skip-unused-stages': 'bool', // only the stages the target needs are built
  'compressed-caching': 'bool',
  'preserve-context': 'bool', // the context is never modified
};

/** Kaniko flags with no Kiln equivalent: refused by name rather than silently ignored. */
const unsupported = new Set(['materialize', 'dockerfile-content', 'build-secret']);

/** Kaniko flags refused because Kiln deliberately works another way. */
const refusedByDesign = new Set(['force-build-metadata']);

/** Why Kiln refuses a Kaniko flag or value, where there is more to say than "not supported". */
const refusalHints: Record<string, string> = {
  'force-build-metadata':
    'Kiln writes no layer for a step that changes no file (ENV, LABEL, a RUN that writes nothing): history marks it empty_layer, as BuildKit does',
  'cache-repo':
    'an `oci:` cache repository (an OCI layout on disk) is not supported: use --cache-dir DIR for a directory cache, or a registry repository',
};

// Build contexts: Kaniko's hidden `--bucket NAME` (`-b`) is `--context gs://NAME`, and wins over
// `--context` as in Kaniko. (`--git` and `--context-sub-path` are `kiln build` flags of the same name.)
function bucketContext(value: string): string {
  return value.startsWith('gs://') ? value : `gs://${value}`;
}

/**
 * Rewrites Kaniko's command line into `kiln build` flags: `-destination=x` and `--destination=x`
 * alike, camelCase aliases, `--flag=true|false` booleans, no-op flags dropped. Unknown flags are
 * left for commander to reject.
 */
export function normalizeKanikoArgs(args: string[], booleanFlags: ReadonlySet<string>): string[] {
  const result: string[] = [];
  let bucket: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const bucketFlag = /^(?:--?bucket|-b)(?:=(.*))?$/s.exec(arg);
    if (bucketFlag) {
      bucket = bucketFlag[1] ?? args[++i];
      continue;
    }
    const match = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(arg);
    if (!match || arg === '-' || (arg.startsWith('-') && !arg.startsWith('--') && match[1]!.length === 1)) {
      result.push(arg);
      continue;
    }
    let name = match[1]!;
    const value = match[2];
    name = renamed[name] ?? name;
    const ociCacheRepo = name === 'cache-repo' && (value ?? args[i + 1] ?? '').startsWith('oci:');
    if (unsupported.has(name) || refusedByDesign.has(name) || ociCacheRepo) {
      throw new KilnError(
        'UNSUPPORTED_KANIKO_FLAG',
        `Kaniko's --${name}${ociCacheRepo ? '=oci:…' : ''} is not supported by Kiln`,
        {
          hint:
            refusalHints[name] ??
            'remove it from the executor arguments; see `kiln build --help` for what Kiln offers',
          exitCode: 2,
        },
      );
    }
    const acceptedKind = accepted[name];
    if (acceptedKind) {
      // A value flag given as `--flag value` consumes the next word too.
      if (acceptedKind === 'value' && value === undefined) i++;
      continue;
    }
    if (booleanFlags.has(name) && value !== undefined) {
      // pflag booleans: --flag=true / --flag=false.
      const truthy = /^(true|1|t|yes)$/i.test(value);
      if (truthy) result.push(`--${name}`);
      // A flag that defaults to true (--ignore-var-run) is turned off by its --no- form.
      else if (booleanFlags.has(`no-${name}`)) result.push(`--no-${name}`);
      continue;
    }
    result.push(value === undefined ? `--${name}` : `--${name}=${value}`);
  }
  if (bucket !== undefined) result.push(`--context=${bucketContext(bucket)}`);
  return result;
}
