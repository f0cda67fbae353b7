import type { Dockerfile, Heredoc, Instruction, ParseOptions } from './ast.ts';
import { DirectiveReader } from './directives.ts';
import { DockerfileSyntaxError } from './dockerfileSyntaxError.ts';
import { chompHeredocContent, findHeredocMarkers, type HeredocMarker } from './heredocSyntax.ts';
import { type LineContext, parseInstructionLine } from './instructionLine.ts';

const leadingWhitespace = /^\s+/;
// An escape at the end of a line continues it, unless it is itself escaped (BuildKit's rule).
const continuationByEscape = { '\\': /(^|[^\\])\\[ \t]*$/, '`': /(^|[^`])`[ \t]*$/ } as const;

/**
 * Parses Dockerfile text into a typed AST, following BuildKit's parser: directives, comments and
 * blank lines, continuations (comments and blank lines inside them skipped), heredocs, flags.
 * Throws `DockerfileSyntaxError` (a `KilnError`) naming the file and line for bad input.
 */
export function parseDockerfile(text: string, options: ParseOptions = {}): Dockerfile {
  const fileName = options.fileName;
  const lines = splitPhysicalLines(text);
  const lineText = (line: number): string => stripCarriageReturn(lines[line - 1] ?? '');
  const fail = (code: string, problem: string, line: number): never => {
    throw new DockerfileSyntaxError(code, problem, { fileName, line, lineText: lineText(line) });
  };
  const directives = new DirectiveReader();
  const instructions: Instruction[] = [];
  let index = 0;
  while (index < lines.length) {
    const lineNumber = index + 1;
    const first = trimLeadingWhitespace(stripCarriageReturn(lines[index]!));
    const problem = directives.consider(first, lineNumber);
    if (problem !== undefined) {
      fail(
        'DOCKERFILE_INVALID_DIRECTIVE',
        problem.problem === 'repeated'
          ? `the ${problem.name} parser directive may appear only once`
          : `invalid escape directive "${problem.value}" (expected \\ or \`)`,
        lineNumber,
      );
    }
    index++;
    const continuation = continuationByEscape[directives.escape];
    const [content, ended] = trimContinuation(first.startsWith('#') ? '' : first, continuation);
    if (ended && content === '') continue;

    let logical = content;
    const pieces = [{ offset: 0, line: lineNumber }];
    let isEnd = ended;
    while (!isEnd && index < lines.length) {
      const physical = stripCarriageReturn(lines[index]!);
      index++;
      const trimmed = trimLeadingWhitespace(physical);
      if (trimmed.startsWith('#') || trimmed === '') continue;
      const [piece, pieceEnded] = trimContinuation(physical, continuation);
      pieces.push({ offset: logical.length, line: index });
      logical += piece;
      isEnd = pieceEnded;
    }

    const startLine = lineNumber;
    const ctx: LineContext = {
      fileName,
      escape: directives.escape,
      startLine,
      endLine: index,
      // Final only once heredoc bodies are read; set on the instruction below.
      raw: '',
      lineAt: (offset) => {
        let line = startLine;
        for (const piece of pieces) if (piece.offset <= offset) line = piece.line;
        return line;
      },
      lineText,
    };
    const instruction = parseInstructionLine(logical, 0, ctx);

    // ONBUILD RUN/COPY/ADD carries heredocs too; the bodies belong to the wrapped instruction.
    const heredocCarrier = instruction.kind === 'ONBUILD' ? instruction.instruction : instruction;
    if (acceptsHeredocs(heredocCarrier)) {
      const heredocs: Heredoc[] = [];
      for (const marker of findHeredocMarkers(logical)) {
        const body = readHeredocBody(lines, index, marker);
        if (body === undefined) {
          return fail(
            'DOCKERFILE_UNTERMINATED_HEREDOC',
            `heredoc <<${marker.name} is not terminated (expected a line "${marker.name}" before the end of the file)`,
            startLine,
          );
        }
        heredocs.push(body);
        index = body.endLine;
      }
      heredocCarrier.heredocs = heredocs;
    }
    instruction.endLine = index;
    instruction.raw = lines.slice(startLine - 1, index).join('\n');
    if (instruction.kind === 'ONBUILD') {
      // The trigger keeps its own text, as BuildKit records it in the image config.
      instruction.instruction.endLine = index;
      instruction.instruction.raw = instruction.raw.replace(/^\s*ONBUILD\s*/i, '');
    }
    instructions.push(instruction);
  }
  if (instructions.length === 0) {
    fail(
      'DOCKERFILE_EMPTY',
      'the Dockerfile has no instructions (expected at least a FROM instruction)',
      Math.max(lines.length, 1),
    );
  }
  return {
    ...(fileName === undefined ? {} : { fileName }),
    directives: directives.directives,
    escape: directives.escape,
    instructions,
  };
}

/** Reads a heredoc body starting at line index `start` (0-based) up to its terminator line. */
function readHeredocBody(
  lines: readonly string[],
  start: number,
  marker: HeredocMarker,
): Heredoc | undefined {
  let content = '';
  for (let index = start; index < lines.length; index++) {
    const physical = lines[index]!;
    let candidate = stripCarriageReturn(physical);
    if (marker.chomp) candidate = candidate.replace(/^\t+/, '');
    if (candidate === marker.name) {
      const { name, ...rest } = marker;
      return {
        name,
        content: marker.chomp ? chompHeredocContent(content) : content,
        ...rest,
        startLine: start + 1,
        endLine: index + 1,
      };
    }
    content += `${physical}\n`;
  }
  return undefined;
}

function acceptsHeredocs(
  instruction: Instruction,
): instruction is Extract<Instruction, { kind: 'RUN' | 'COPY' | 'ADD' }> {
  return (
    (instruction.kind === 'RUN' || instruction.kind === 'COPY' || instruction.kind === 'ADD') &&
    instruction.form === 'shell'
  );
}

/** Lines without their `\n`; a final newline does not start another line. A BOM is dropped. */
function splitPhysicalLines(text: string): string[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body === '') return [];
  const lines = body.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.replace(/\r+$/, '') : line;
}

function trimLeadingWhitespace(line: string): string {
  return line.replace(leadingWhitespace, '');
}

/** Removes a trailing escape (plus spaces/tabs); returns whether the logical line ends here. */
function trimContinuation(line: string, pattern: RegExp): [string, boolean] {
  const match = pattern.exec(line);
  return match === null ? [line, true] : [line.slice(0, match.index + match[1]!.length), false];
}
