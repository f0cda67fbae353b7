import { KilnError } from '@kiln/errors';

/** Kaniko flags Kiln takes under another name (old camelCase spellings included). */
const renamed: Record<string, string> = {
  snapshotMode: 'snapshot-mode',
  tarPath: 'tar-path',
  'kaniko-dir': 'kiln-dir',
  'insecure-pull': 'insecure',
  'skip-tls-verify-pull': 'skip-tls-verify',
  'build-arg': 'build-arg',
};

/** Kaniko flags that need no action in Kiln (what they ask for is how Kiln always works). */
const accepted: Record<string, 'bool' | 'value'> = {
  cleanup: 'bool', // the work dir is always removed
  'use-new-run': 'bool', // every RUN is snapshotted on its own
  'skip-unused-stages': 'bool', // only the stages the target needs are built
  'ignore-var-run': 'bool', // container mode ignores /var/run
  'log-timestamp': 'bool',
  'compressed-caching': 'bool',
  'preserve-context': 'bool', // the context is never modified
  'force-build-metadata': 'bool',
  'skip-default-registry-fallback': 'bool',
  'image-download-retry': 'value',
  'image-fs-extract-retry': 'value',
};

/** Kaniko flags with no Kiln equivalent: refused by name rather than silently ignored. */
const unsupported = new Set([
  'git',
  'registry-map',
  'registry-client-cert',
  'push-ignore-immutable-tag-errors',
  'materialize',
  'dockerfile-content',
  'build-secret',
  'annotation',
]);

/**
 * Rewrites Kaniko's command line into `kiln build` flags: `-destination=x` and `--destination=x`
 * alike, camelCase aliases, `--flag=true|false` booleans, no-op flags dropped. Unknown flags are
 * left for commander to reject.
 */
export function normalizeKanikoArgs(args: string[], booleanFlags: ReadonlySet<string>): string[] {
  const result: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const match = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(arg);
    if (!match || arg === '-' || (arg.startsWith('-') && !arg.startsWith('--') && match[1]!.length === 1)) {
      result.push(arg);
      continue;
    }
    let name = match[1]!;
    const value = match[2];
    name = renamed[name] ?? name;
    if (unsupported.has(name)) {
      throw new KilnError('UNSUPPORTED_KANIKO_FLAG', `Kaniko's --${name} is not supported by Kiln`, {
        hint: 'remove it from the executor arguments; see `kiln build --help` for what Kiln offers',
        exitCode: 2,
      });
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
      if (name === 'no-push' || truthy) result.push(`--${name}`);
      if (name === 'no-push' && !truthy) result.pop();
      continue;
    }
    result.push(value === undefined ? `--${name}` : `--${name}=${value}`);
  }
  return result;
}
