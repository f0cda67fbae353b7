import type { CacheSharing, Mount } from './ast.ts';

export type MountResult = { ok: true; mount: Mount } | { ok: false; problem: string };

const mountTypes = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
type MountType = (typeof mountTypes)[number];

/**
 * Parses a `--mount` value (`type=cache,target=/root/.cache,sharing=locked`) as BuildKit does:
 * CSV fields, `key=value` or a bare boolean key, keys case-insensitive with their aliases.
 * Values are kept unexpanded; numbers are checked only when they hold no variable.
 */
export function parseMount(value: string): MountResult {
  const fields = splitCsvFields(value);
  if (typeof fields === 'string') return { ok: false, problem: fields };
  let type: MountType = 'bind';
  const options: Record<string, string> = {};
  const booleans: Record<string, boolean> = {};
  for (const field of fields) {
    const equals = field.indexOf('=');
    const key = (equals < 0 ? field : field.slice(0, equals)).toLowerCase();
    const raw = equals < 0 ? undefined : field.slice(equals + 1);
    const canonical = mountKeyAliases[key];
    if (canonical === undefined) return { ok: false, problem: `unexpected key '${key}' in '${field}'` };
    if (canonical === 'readonly' || canonical === 'readwrite' || canonical === 'required') {
      const parsed = raw === undefined ? true : parseGoBool(raw);
      if (parsed === undefined) return { ok: false, problem: `invalid value for ${key}: ${raw}` };
      booleans[canonical] = parsed;
      continue;
    }
    if (raw === undefined) return { ok: false, problem: `invalid field '${field}' must be a key=value pair` };
    if (canonical === 'type') {
      const lowered = raw.toLowerCase();
      if (!(mountTypes as readonly string[]).includes(lowered))
        return { ok: false, problem: `unsupported mount type "${raw}"` };
      type = lowered as MountType;
      continue;
    }
    if (canonical === 'sharing' && !['shared', 'private', 'locked'].includes(raw.toLowerCase())) {
      return { ok: false, problem: `unsupported sharing value "${raw}"` };
    }
    if (canonical === 'mode' && !raw.includes('$') && !/^[0-7]+$/.test(raw)) {
      return { ok: false, problem: `invalid value ${raw} for mode` };
    }
    if ((canonical === 'uid' || canonical === 'gid') && !raw.includes('$') && !/^\d+$/.test(raw)) {
      return { ok: false, problem: `invalid value ${raw} for ${canonical}` };
    }
    options[canonical] = raw;
  }
  if (options.sharing !== undefined && type !== 'cache') {
    return { ok: false, problem: `invalid cache sharing set for ${type} mount` };
  }
  const readonly = booleans.readonly ?? (booleans.readwrite === undefined ? undefined : !booleans.readwrite);
  const target = options.target;
  switch (type) {
    case 'bind':
    case 'cache':
    case 'tmpfs':
      if (target === undefined || target === '')
        return { ok: false, problem: `${type} mount requires a target` };
  }
  return { ok: true, mount: buildMount(type, target ?? '', options, readonly, booleans.required ?? false) };
}

function buildMount(
  type: MountType,
  target: string,
  options: Record<string, string>,
  readonly: boolean | undefined,
  required: boolean,
): Mount {
  const pick = <K extends string>(keys: readonly K[]): Partial<Record<K, string>> => {
    const picked: Partial<Record<K, string>> = {};
    for (const key of keys) if (options[key] !== undefined) picked[key] = options[key];
    return picked;
  };
  switch (type) {
    case 'bind':
      return { type, target, ...pick(['source', 'from'] as const), readonly: readonly ?? true };
    case 'cache':
      return {
        type,
        target,
        ...pick(['id', 'source', 'from'] as const),
        sharing: (options.sharing?.toLowerCase() ?? 'shared') as CacheSharing,
        readonly: readonly ?? false,
        ...pick(['mode', 'uid', 'gid'] as const),
      };
    case 'tmpfs':
      return { type, target, ...pick(['size'] as const) };
    case 'secret': {
      // For secrets, `source` is another name for the id.
      const id = options.id ?? options.source;
      return {
        type,
        ...(id === undefined ? {} : { id }),
        ...pick(['target', 'env'] as const),
        required,
        ...pick(['mode', 'uid', 'gid'] as const),
      };
    }
    case 'ssh':
      return { type, ...pick(['id', 'target'] as const), required, ...pick(['mode', 'uid', 'gid'] as const) };
  }
}

const mountKeyAliases: Record<string, string> = {
  type: 'type',
  source: 'source',
  src: 'source',
  target: 'target',
  dst: 'target',
  destination: 'target',
  from: 'from',
  id: 'id',
  sharing: 'sharing',
  readonly: 'readonly',
  ro: 'readonly',
  readwrite: 'readwrite',
  rw: 'readwrite',
  required: 'required',
  mode: 'mode',
  uid: 'uid',
  gid: 'gid',
  size: 'size',
  env: 'env',
};

function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** One CSV record as Go's encoding/csv reads it (quoted fields, `""` for a quote); a string on error. */
function splitCsvFields(value: string): string[] | string {
  if (value === '') return 'empty mount specification';
  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    let field = '';
    if (value[pos] === '"') {
      pos++;
      for (;;) {
        if (pos >= value.length) return 'extraneous or missing " in quoted-field';
        const ch = value[pos]!;
        if (ch === '"') {
          if (value[pos + 1] === '"') {
            field += '"';
            pos += 2;
            continue;
          }
          pos++;
          break;
        }
        field += ch;
        pos++;
      }
      if (pos < value.length && value[pos] !== ',') return 'extraneous or missing " in quoted-field';
    } else {
      const comma = value.indexOf(',', pos);
      field = value.slice(pos, comma < 0 ? value.length : comma);
      if (field.includes('"')) return 'bare " in non-quoted field';
      pos = comma < 0 ? value.length : comma;
    }
    fields.push(field);
    if (pos >= value.length) return fields;
    pos++;
  }
}
