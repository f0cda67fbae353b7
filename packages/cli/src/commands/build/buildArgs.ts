import { KilnError } from '@kiln/errors';

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
