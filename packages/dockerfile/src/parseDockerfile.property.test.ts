import { KilnError } from '@kiln/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Dockerfile } from './ast.ts';
import { parseDockerfile } from './parseDockerfile.ts';
import { printDockerfile } from './printDockerfile.ts';

/** Pieces that exercise the parser's corners: keywords, flags, quotes, escapes, heredocs, JSON. */
const fragment = fc.constantFrom(
  'FROM',
  'run',
  'RUN',
  'CMD',
  'ENTRYPOINT',
  'COPY',
  'ADD',
  'ENV',
  'LABEL',
  'ARG',
  'EXPOSE',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
  'MAINTAINER',
  'NONE',
  ' ',
  ' ',
  '\t',
  'AS',
  'a',
  'b=c',
  '=',
  '"',
  "'",
  '\\',
  '`',
  '$',
  '${',
  '}',
  ':-',
  '#',
  '[',
  ']',
  ',',
  '["x", "y"]',
  '--',
  '--link',
  '--from=a',
  '--mount=type=cache,target=/c',
  '--interval=1s',
  '--platform=$P',
  '<<EOF',
  '<<-"EOF"',
  'EOF',
  '# escape=`',
  '# syntax=x',
  '/dst',
);

const line = fc.array(fragment, { maxLength: 8 }).map((parts) => parts.join(''));
const text = fc.array(line, { maxLength: 8 }).map((lines) => lines.join('\n'));
/** One adversarial instruction after a valid FROM: parses often enough to test the printer's corners. */
const oneLine = fc
  .tuple(
    fc.constantFrom('', '# escape=`\n'),
    fragment,
    line,
    fc.constantFrom('', '\nEOF\n', '\n x\n"EOF"\nEOF\n'),
  )
  .map(([head, keyword, rest, tail]) => `${head}FROM base\n${keyword} ${rest}${tail}`);

/** Instructions likely to be valid, so the round trip is exercised on real ASTs. */
const word = fc.stringMatching(/^[a-z0-9_.][a-z0-9_./:-]{0,7}$/);
const quotedWord = fc.oneof(
  word,
  word.map((w) => `"${w} ${w}"`),
  word.map((w) => `'${w}'`),
  word.map((w) => `\${${w.replace(/[^a-z]/g, '') || 'V'}:-${w}}`),
);
const instructionFor = (escapeChar: string) =>
  fc.oneof(
    fc
      .tuple(word, fc.option(word, { nil: undefined }))
      .map(([image, stage]) => `FROM ${image}${stage ? ` AS a${stage.replace(/[^a-z0-9]/g, '')}` : ''}`),
    fc.array(quotedWord, { minLength: 1, maxLength: 4 }).map((words) => `RUN ${words.join(' ')}`),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }).map((args) => `CMD ${JSON.stringify(args)}`),
    fc
      .array(fc.tuple(word, quotedWord), { minLength: 1, maxLength: 3 })
      .map((pairs) => `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`),
    fc.tuple(word, word, word).map(([k, a, b]) => `LABEL ${k} ${a}  ${b}`),
    fc
      .array(fc.tuple(word, fc.option(quotedWord, { nil: undefined })), { minLength: 1, maxLength: 3 })
      .map((args) => `ARG ${args.map(([n, d]) => (d === undefined ? n : `${n}=${d}`)).join(' ')}`),
    fc
      .tuple(fc.array(word, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([words, link]) => `COPY ${link ? '--link --chmod="7 5" ' : ''}${words.join(' ')} /dst/`),
    fc
      .tuple(word, fc.constantFrom('<<EOF', '<<-EOF', '<<"EOF"'))
      .map(([body, marker]) => `RUN ${marker} sh\n\t${body}\n${marker.includes('-') ? '\t' : ''}EOF`),
    fc
      .array(
        fc.oneof(
          word,
          word.map((w) => `${w} ${w}`),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((values) => `VOLUME ${JSON.stringify(values)}`),
    word.map((value) => `ONBUILD WORKDIR ${value}`),
    word.map((value) => `HEALTHCHECK --retries=2 CMD ${value}`),
    fc.constant('HEALTHCHECK NONE'),
    word.map((value) => `USER ${value} ${escapeChar}\n  # comment\n\n ${value}`),
    fc.tuple(word, fc.constantFrom('"a b" c', "'x' y", 'v\\ w')).map(([key, value]) => `ENV ${key} ${value}`),
    fc.constantFrom(
      'RUN --mount="type=cache,target=/a b" --network=host x',
      'ADD --checksum=sha256:0 --keep-git-dir https://x/y.git /src',
    ),
  );
const dockerfileText = fc
  .constantFrom('', '# escape=`\n', '# syntax=x\n')
  .chain((head) =>
    fc.tuple(
      fc.constant(head),
      fc.array(instructionFor(head.includes('`') ? '`' : '\\'), { minLength: 1, maxLength: 6 }),
    ),
  )
  .map(([head, instructions]) => `${head}FROM base\n${instructions.join('\n')}\n`);

/** The AST without positions and original text, which printing legitimately changes. */
function withoutPositions(dockerfile: Dockerfile): unknown {
  return JSON.parse(
    JSON.stringify(dockerfile, (key, value) =>
      key === 'startLine' || key === 'endLine' || key === 'raw' || key === 'line' ? undefined : value,
    ),
  );
}

function parseOrUndefined(source: string): Dockerfile | undefined {
  try {
    return parseDockerfile(source);
  } catch (error) {
    if (error instanceof KilnError) return undefined;
    throw error;
  }
}

describe('parseDockerfile properties', () => {
  it('throws nothing but KilnError on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          text,
          fc.string({ maxLength: 60 }),
          fc.string({ unit: 'binary', maxLength: 60 }),
          dockerfileText,
        ),
        (source) => {
          parseOrUndefined(source);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('printing an AST and parsing it again gives the same AST', () => {
    fc.assert(
      fc.property(fc.oneof(dockerfileText, oneLine, text), (source) => {
        const ast = parseOrUndefined(source);
        if (ast === undefined) return;
        const printed = printDockerfile(ast);
        const reparsed = parseDockerfile(printed);
        expect(withoutPositions(reparsed)).toEqual(withoutPositions(ast));
        // Printing is a fixed point, positions included.
        expect(printDockerfile(reparsed)).toBe(printed);
      }),
      { numRuns: Number(process.env.KILN_PROPERTY_RUNS ?? 600) },
    );
  });

  it('valid generated Dockerfiles parse', () => {
    fc.assert(
      fc.property(dockerfileText, (source) => {
        expect(parseDockerfile(source).instructions.length).toBeGreaterThan(1);
      }),
      { numRuns: 200 },
    );
  });
});
