import type { Heredoc } from '@kiln/dockerfile';
import { isLoneHeredoc } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';

/** Where a `#!` heredoc is mounted for its RUN (as BuildKit does), read-only, never in a layer. */
export const heredocScriptDir = '/dev/pipes';

/** A `RUN <<EOF` body starting with `#!`: written to a file and executed, so its interpreter runs it. */
export interface HeredocScript {
  name: string;
  content: string;
}

export interface ShellRun {
  /** The words after SHELL's argv: one script string. */
  script: string;
  /** Present when the script is a file in `heredocScriptDir` that must exist while it runs. */
  file?: HeredocScript;
}

/**
 * What a shell-form RUN hands its shell, as BuildKit's dispatchRun does: the command alone; for a
 * lone `<<EOF` the body itself (or, when it starts with `#!`, the path of a file holding it); for
 * any other command with heredocs the command followed by every body and its terminator, so the
 * shell itself feeds each heredoc to its command (stdin, a redirection, `<<-` tab stripping).
 */
export function shellRun(command: string, heredocs: readonly Heredoc[]): ShellRun {
  const first = heredocs[0];
  if (first === undefined) return { script: command };
  if (heredocs.length === 1 && isLoneHeredoc(command)) {
    if (!first.content.startsWith('#!')) return { script: first.content };
    return {
      script: `${heredocScriptDir}/${first.name}`,
      file: { name: first.name, content: first.content },
    };
  }
  let script = command;
  for (const heredoc of heredocs) script += `\n${heredoc.content}${heredoc.name}`;
  return { script };
}

/** The heredoc's name becomes a file name: one path component, nothing that could leave its directory. */
export function checkScriptName(name: string, where: string): void {
  if (name !== '' && name !== '.' && name !== '..' && !/[/\0]/.test(name)) return;
  throw new KilnError(
    'RUN_HEREDOC_NAME',
    `${where}: a heredoc script named "${name}" cannot be a file name`,
    {
      hint: 'name the heredoc with letters, digits and underscores, e.g. <<EOF',
    },
  );
}

/**
 * The argv that runs a `#!` script the way the kernel would (`interpreter [one argument] path`),
 * given to the executor instead of `SHELL path`: the file then only needs to be readable, so a
 * `/dev` mounted noexec (every container runtime's) still runs it. Undefined when the `#!` line
 * names no interpreter (then the shell's fallback is the only way).
 */
export function scriptArgv(content: string, path: string): string[] | undefined {
  const end = content.indexOf('\n');
  const line = content.slice(2, end === -1 ? undefined : end).replace(/^[ \t]+|[ \t\r]+$/g, '');
  const match = /^(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (match === null) return undefined;
  return [match[1]!, ...(match[2] === undefined ? [] : [match[2]]), path];
}
