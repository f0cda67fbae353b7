import { KilnError } from '@kiln/errors';

/** Where a syntax error is: the file as named to the parser, the 1-based line and its text. */
export interface SyntaxErrorLocation {
  fileName: string | undefined;
  line: number;
  lineText: string;
}

/**
 * A Dockerfile the parser cannot accept. The message is one line that names the file, the line,
 * what was expected, and quotes the offending line, so the CLI can print it as is.
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
    const quoted = location.lineText.trim() === '' ? '' : `: ${JSON.stringify(location.lineText.trim())}`;
    super(code, `${where}: ${problem}${quoted}`, options);
    this.name = 'DockerfileSyntaxError';
    this.fileName = location.fileName;
    this.line = location.line;
    this.lineText = location.lineText;
  }
}
