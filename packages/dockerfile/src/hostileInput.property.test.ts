import { KilnError } from '@kiln/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandHeredocContent, expandWord, expandWords, maxExpansionDepth } from './expandWord.ts';
import { parseDockerfile } from './parseDockerfile.ts';
import { maxQuotedLength } from './quoteForMessage.ts';

/** Runs `action`; anything thrown must be a KilnError with a one-line, bounded message. */
function onlyKilnError(action: () => unknown): void {
  try {
    action();
  } catch (error) {
    if (!(error instanceof KilnError)) throw error;
    expect(error.message).not.toMatch(/[\n\r\u0000]/);
    expect(error.message.length).toBeLessThan(2000);
  }
}

/** Parses, then expands every instruction the way the builder would, with every variable set. */
function parseAndExpand(text: string): void {
  onlyKilnError(() => {
    const dockerfile = parseDockerfile(text, { fileName: 'Dockerfile' });
    for (const instruction of dockerfile.instructions) {
      const words = instruction.raw.split(/\s+/).slice(1).join(' ');
      onlyKilnError(() => expandWords(words, () => 'v', { escape: dockerfile.escape }));
      onlyKilnError(() => expandWord(words, () => undefined, { escape: dockerfile.escape }));
      onlyKilnError(() => expandHeredocContent(words, () => 'v'));
    }
  });
  onlyKilnError(() => expandWord(text, () => 'v'));
  onlyKilnError(() => expandWords(text, () => undefined, { escape: '`' }));
  onlyKilnError(() => expandHeredocContent(text, () => 'v'));
}

const pieces = [
  'FROM a\n',
  'RUN ',
  'ENV ',
  'COPY ',
  'ADD ',
  'ARG ',
  'LABEL ',
  'HEALTHCHECK CMD ',
  'ONBUILD ',
  '${',
  '${a:-',
  '${a/',
  '${a%%',
  '}',
  '$',
  '"',
  "'",
  '\\',
  '`',
  '\\\n',
  '`\n',
  '\n',
  '\r',
  '\u0000',
  '\ufffd',
  '\ud800',
  '\udfff',
  '\u202e',
  '<<EOF',
  '<<-"EOF"\n',
  'EOF\n',
  '[',
  ']',
  '["',
  '",',
  '--mount=',
  'type=cache,',
  '--from=',
  '# escape=`\n',
  '#',
  ' ',
  '=',
  '*',
  '?',
  '[!',
];

/** Text built from the pieces that exercise the parser's and expander's corners. */
const fragments = fc.array(fc.constantFrom(...pieces), { maxLength: 80 }).map((parts) => parts.join(''));

/** A pattern opened `depth` times and closed (or not) as many times: recursion's worst case. */
const deepNesting = fc
  .record({
    open: fc.constantFrom('${a:-', '${a+', '${a#', '${a/', '"${a:-', '"', '\'"', '[', '["', '<<E', '\\\n'),
    close: fc.constantFrom('}', '}"', '', ']', '"]', '\nE\n', ''),
    depth: fc.integer({ min: 1, max: 30_000 }),
    closed: fc.boolean(),
    prefix: fc.constantFrom('FROM a\nENV X=', 'FROM a\nRUN echo ', 'FROM ', 'ARG A=', 'FROM a\nCOPY ', ''),
  })
  .map(({ open, close, depth, closed, prefix }) => {
    return `${prefix}${open.repeat(depth)}x${closed ? close.repeat(depth) : ''}\n`;
  });

/** Bytes that are not UTF-8 (lone continuation bytes, overlong forms), decoded as Node decodes a file. */
const invalidUtf8 = fc
  .uint8Array({ maxLength: 400 })
  .map((bytes) => `FROM a\nRUN ${Buffer.from([...bytes, 0xc0, 0x80, 0xff, 0xfe]).toString('utf8')}\n`);

/** One enormous line, of a piece repeated up to a million characters. */
const hugeLine = fc
  .record({
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile text, not a template.
    piece: fc.constantFrom('x', '$a', '${a}', '"', '\u0001', '--flag', ' ', '\\', 'é'),
    count: fc.integer({ min: 10_000, max: 250_000 }),
    keyword: fc.constantFrom('RUN', 'ENV', 'COPY', 'LABEL', 'BOGUS', 'FROM'),
  })
  .map(({ piece, count, keyword }) => `FROM a\n${keyword} ${piece.repeat(count)}\n`);

describe('hostile Dockerfiles', () => {
  it('random pieces: only KilnError', () => {
    fc.assert(
      fc.property(fragments, (text) => parseAndExpand(text)),
      { numRuns: 500 },
    );
  });

  it('deep nesting of substitutions, quotes, brackets, heredocs and continuations: only KilnError', () => {
    fc.assert(
      fc.property(deepNesting, (text) => parseAndExpand(text)),
      { numRuns: 60 },
    );
  });

  it('invalid UTF-8 and NULs: only KilnError', () => {
    fc.assert(
      fc.property(invalidUtf8, (text) => parseAndExpand(text)),
      { numRuns: 200 },
    );
  });

  it('huge lines: only KilnError, and the message quotes a bounded part of the line', () => {
    fc.assert(
      fc.property(hugeLine, (text) => parseAndExpand(text)),
      { numRuns: 20 },
    );
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile text, not a template.
  it('a 20,000-deep ${a:-…} is DOCKERFILE_EXPANSION_TOO_DEEP naming the line, not a stack overflow', () => {
    const deep = `${'${a:-'.repeat(20_000)}x${'}'.repeat(20_000)}`;
    let thrown: unknown;
    try {
      parseDockerfile(`FROM a\nENV X=${deep}\n`, { fileName: 'Dockerfile' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KilnError);
    expect((thrown as KilnError).code).toBe('DOCKERFILE_EXPANSION_TOO_DEEP');
    expect((thrown as KilnError).message).toMatch(/^Dockerfile:2: /);
    expect((thrown as KilnError).message.length).toBeLessThan(maxQuotedLength * 4);
    expect(() => expandWord(deep, () => undefined)).toThrow(
      expect.objectContaining({ code: 'SHELL_EXPANSION_TOO_DEEP' }),
    );
  });

  it('a huge substitution pattern is SHELL_INVALID_PATTERN, not a SyntaxError', () => {
    for (const piece of ['x', '(', '*']) {
      expect(() => expandWord(`$${'{'}a#${piece.repeat(200_000)}}`, () => 'abc')).toThrow(
        expect.objectContaining({ code: 'SHELL_INVALID_PATTERN' }),
      );
    }
    expect(expandWord(`$${'{'}a#${'x'.repeat(4096)}}`, () => 'abc')).toBe('abc');
  });

  it(`nesting up to ${maxExpansionDepth} levels still expands`, () => {
    const word = `${'${a:-'.repeat(maxExpansionDepth)}x${'}'.repeat(maxExpansionDepth)}`;
    expect(expandWord(word, () => undefined)).toBe('x');
  });

  it('a huge line with control characters is quoted short, on one line, controls escaped', () => {
    let thrown: unknown;
    try {
      parseDockerfile(`FROM a\nBOGUS \u0007\u001b[31m${'y'.repeat(1_000_000)}\n`, { fileName: 'Dockerfile' });
    } catch (error) {
      thrown = error;
    }
    const message = (thrown as KilnError).message;
    expect(message).toMatch(/^Dockerfile:2: unknown instruction/);
    expect(message.length).toBeLessThan(1000);
    expect(message).not.toMatch(/[\u0000-\u001f]/);
    expect(message).toContain('\\u0007');
  });
});
