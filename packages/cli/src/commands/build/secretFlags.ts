/** `--secret` and `--ssh` in buildx's syntax; each failure is a usage error (exit 2). */
import { statSync } from 'node:fs';
import type { SecretSource } from '@kiln/builder';
import { KilnError } from '@kiln/errors';

function usage(flag: string, value: string, problem: string): KilnError {
  return new KilnError('INVALID_SECRET_FLAG', `${flag} "${value}": ${problem}`, {
    hint:
      flag === '--secret'
        ? 'use --secret id=NAME,src=FILE or --secret id=NAME,env=VARIABLE'
        : 'use --ssh default, --ssh ID=SOCKET or --ssh ID=KEYFILE[,KEYFILE]',
    exitCode: 2,
  });
}

/**
 * `--secret id=NAME,src=PATH | id=NAME,env=VAR | type=file|env,…` as buildx reads it: `type=env`
 * with `src=` names the variable; `id=NAME` alone is the variable NAME when set, else the file
 * NAME. A variable that is not set provides no secret (a RUN that requires it then fails).
 */
export function parseSecretFlag(
  value: string,
  env: NodeJS.ProcessEnv = process.env,
): SecretSource | undefined {
  let type: 'file' | 'env' | undefined;
  let id: string | undefined;
  let file: string | undefined;
  let variable: string | undefined;
  for (const field of value.split(',')) {
    const equals = field.indexOf('=');
    const key = (equals < 0 ? field : field.slice(0, equals)).toLowerCase();
    const text = equals < 0 ? '' : field.slice(equals + 1);
    if (equals < 0) throw usage('--secret', value, `"${field}" is not key=value`);
    if (key === 'type') {
      if (text !== 'file' && text !== 'env') throw usage('--secret', value, `unsupported type "${text}"`);
      type = text;
    } else if (key === 'id') id = text;
    else if (key === 'src' || key === 'source') file = text;
    else if (key === 'env') variable = text;
    else throw usage('--secret', value, `unexpected key "${key}"`);
  }
  if (!id) throw usage('--secret', value, 'an id= is required');
  if (type === 'env' && variable === undefined) {
    variable = file ?? id;
    file = undefined;
  }
  if (type === 'file' && file === undefined) file = id;
  if (variable === undefined && file === undefined) {
    if (env[id] !== undefined) variable = id;
    else file = id;
  }
  if (file !== undefined) {
    try {
      if (statSync(file).isDirectory()) throw new Error('directory');
    } catch {
      throw usage('--secret', value, `${file} is not a readable file`);
    }
    return { id, file };
  }
  const secret = env[variable!];
  return secret === undefined ? undefined : { id, value: secret };
}

/** `--ssh ID[=SOCKET|KEYFILE[,KEYFILE…]]`: no path means `$SSH_AUTH_SOCK`. */
export interface SshFlag {
  id: string;
  /** A socket, or key files to load into a throwaway agent. */
  paths: string[];
}

export function parseSshFlag(value: string, env: NodeJS.ProcessEnv = process.env): SshFlag {
  const equals = value.indexOf('=');
  const id = equals < 0 ? value : value.slice(0, equals);
  if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw usage('--ssh', value, `"${id}" is not a valid id`);
  const paths =
    equals < 0
      ? []
      : value
          .slice(equals + 1)
          .split(',')
          .filter(Boolean);
  if (paths.length === 0) {
    const socket = env.SSH_AUTH_SOCK;
    if (!socket) throw usage('--ssh', value, 'no path given and SSH_AUTH_SOCK is not set');
    paths.push(socket);
  }
  return { id, paths };
}
