/** Parsers of `kiln build` flag values; each failure is a usage error (exit 2). */
import { KilnError } from '@kiln/errors';
import type { SnapshotStrategyName } from '@kiln/snapshot';

/** `--build-arg K=V` or `K` (value from the environment, as Docker and Kaniko take it). */
export function parseBuildArgs(values: string[], env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const args = new Map<string, string>();
  for (const value of values) {
    const equals = value.indexOf('=');
    const name = equals === -1 ? value : value.slice(0, equals);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new KilnError(
        'INVALID_BUILD_ARG',
        `--build-arg "${value}": "${name}" is not a valid argument name`,
        {
          hint: 'use --build-arg NAME=value or --build-arg NAME (taken from the environment)',
          exitCode: 2,
        },
      );
    }
    if (equals !== -1) args.set(name, value.slice(equals + 1));
    else if (env[name] !== undefined) args.set(name, env[name]);
  }
  return args;
}

/** `--label k=v` (repeatable). */
export function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals <= 0) {
      throw new KilnError('INVALID_LABEL', `--label "${value}" is not key=value`, { exitCode: 2 });
    }
    labels[value.slice(0, equals)] = value.slice(equals + 1);
  }
  return labels;
}

/** `--annotation key=value` (repeatable) → manifest annotations. */
export function parseAnnotations(values: string[]): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals <= 0) {
      throw new KilnError('INVALID_FLAG', `--annotation "${value}" is not key=value`, { exitCode: 2 });
    }
    annotations[value.slice(0, equals)] = value.slice(equals + 1);
  }
  return annotations;
}

// Kaniko's names for the snapshot strategies.
const snapshotModes: Record<string, SnapshotStrategyName> = {
  full: 'full',
  metadata: 'metadata',
  incremental: 'incremental',
  overlay: 'overlay',
  redo: 'metadata',
  time: 'metadata',
};

/** `--snapshot-mode`, Kaniko's names included. */
export function snapshotStrategy(mode: string): SnapshotStrategyName {
  return snapshotModes[mode] ?? 'incremental';
}

/** `--flag`, `--flag=true` or absent: on; `--flag=false`: off. */
export function flagEnabled(value: boolean | string | undefined): boolean {
  return value === undefined || value === true || !/^(false|0|f|no)$/i.test(String(value));
}

/** The entries whose value is set (optional request fields must be absent, not undefined). */
export function defined<T extends Record<string, string | undefined>>(
  values: T,
): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: string;
  };
}

export function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text))
    throw new KilnError('INVALID_FLAG', `${flag} "${text}" is not a whole number`, { exitCode: 2 });
  return Number(text);
}
