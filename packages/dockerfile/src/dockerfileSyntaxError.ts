import { KilnError } from '@kiln/errors';
import { maxProblemLength, printable, quoteForMessage } from './quoteForMessage.ts';

/** Where a syntax error is: the file as named to the parser, the 1-based line and its text. */
export interface SyntaxErrorLocation {
  fileName: string | undefined;
  line: number;
  lineText: string;
}

/**
 * A Dockerfile the parser cannot accept. The message is one line that names the file, the line,
 * what was expected, and quotes the offending line (cut short, controls escaped), so the CLI can
 * print it as is.
 */
export class DockerfileSyntaxError extends KilnError {
  readonly fileName: string | undefined;
  readonly line: number;
  readonly lineText: string;

  constructor(
    code: string,
    problem: string,
    location: SyntaxErrorLocation,
    options: { cause?: unknown } = {},
  ) {
    const where =
      location.fileName === undefined ? `line ${location.line}` : `${location.fileName}:${location.line}`;
    const quoted = location.lineText.trim() === '' ? '' : `: ${quoteForMessage(location.lineText.trim())}`;
    // The problem may name words of a hostile line (a flag, a variable): one line, and short.
    super(code, `${where}: ${printable(problem, maxProblemLength)}${quoted}`, options);
    this.name = 'DockerfileSyntaxError';
    this.fileName = location.fileName;
    this.line = location.line;
    this.lineText = location.lineText;
  }
}
