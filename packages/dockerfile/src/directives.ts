import type { Directive, DirectiveName, EscapeChar } from './ast.ts';

const directiveLine = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const knownDirectives: ReadonlySet<string> = new Set<DirectiveName>(['syntax', 'escape', 'check']);

export type DirectiveProblem =
  | { problem: 'repeated'; name: string }
  | { problem: 'bad-escape'; value: string };

/**
 * Reads parser directives the way BuildKit does: only at the very top, before any blank line,
 * comment or instruction; names are case-insensitive; each may appear once.
 */
export class DirectiveReader {
  readonly directives: Directive[] = [];
  escape: EscapeChar = '\\';
  private done = false;

  /** Looks at one physical line (leading whitespace removed); returns a problem or undefined. */
  consider(line: string, lineNumber: number): DirectiveProblem | undefined {
    if (this.done) return undefined;
    const match = directiveLine.exec(line);
    const name = match?.[1]?.toLowerCase();
    if (match === null || name === undefined || !knownDirectives.has(name)) {
      this.done = true;
      return undefined;
    }
    if (this.directives.some((directive) => directive.name === name)) return { problem: 'repeated', name };
    const value = match[2]!;
    if (name === 'escape') {
      if (value !== '\\' && value !== '`') return { problem: 'bad-escape', value };
      this.escape = value;
    }
    this.directives.push({ name: name as DirectiveName, value, line: lineNumber });
    return undefined;
  }
}
