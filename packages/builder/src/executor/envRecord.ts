/**
 * A command's environment (`NAME=value` strings, as in an image config) as spawn takes it. Split at
 * the first `=`; an entry with none is the name with an empty value, as BuildKit reads image configs;
 * an empty name (`=x`) cannot be set in a process environment and is left out. Later entries win.
 */
export function envRecord(env: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const pair of env) {
    const equals = pair.indexOf('=');
    const name = equals === -1 ? pair : pair.slice(0, equals);
    if (name !== '') record[name] = equals === -1 ? '' : pair.slice(equals + 1);
  }
  return record;
}
