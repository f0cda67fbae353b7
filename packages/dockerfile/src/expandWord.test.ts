// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are shell words, not templates
import { describe, expect, it } from 'vitest';
import { expandHeredocContent, expandWord, expandWords } from './expandWord.ts';

const env: Record<string, string> = {
  NAME: 'kiln',
  EMPTY: '',
  PATHY: '/usr/local/bin/node.tar.gz',
  SPACED: 'a  b c',
  REPEAT: 'aXbXc',
};
const lookup = (name: string): string | undefined => env[name];

describe('expandWord', () => {
  it.each([
    ['$NAME', 'kiln'],
    ['${NAME}', 'kiln'],
    ['pre-${NAME}-post', 'pre-kiln-post'],
    ['$NAME.txt', 'kiln.txt'],
    ['$UNSET', ''],
    ['$', '$'],
    ['a$', 'a$'],
    ['$1x', 'x'],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${UNSET-fallback}', 'fallback'],
    ['${NAME:-fallback}', 'kiln'],
    ['${NAME:+set}', 'set'],
    ['${EMPTY:+set}', ''],
    ['${EMPTY+set}', 'set'],
    ['${UNSET+set}', ''],
    ['${NAME:?must be set}', 'kiln'],
    ['${UNSET:-$NAME}', 'kiln'],
    ['${UNSET:-"a b"}', 'a b'],
    ['${PATHY#*/}', 'usr/local/bin/node.tar.gz'],
    ['${PATHY##*/}', 'node.tar.gz'],
    ['${PATHY%.*}', '/usr/local/bin/node.tar'],
    ['${PATHY%%.*}', '/usr/local/bin/node'],
    ['${PATHY#nomatch}', '/usr/local/bin/node.tar.gz'],
    ['${REPEAT/X/-}', 'a-bXc'],
    ['${REPEAT//X/-}', 'a-b-c'],
    ['${REPEAT//?X/}', 'c'],
    ['${UNSET/a/b}', ''],
    ["'$NAME'", '$NAME'],
    ['"$NAME"', 'kiln'],
    ['"a \\"q\\" \\$NAME \\x"', 'a "q" $NAME \\x'],
    ['\\$NAME', '$NAME'],
    ['a\\ b', 'a b'],
    ['trailing\\', 'trailing'],
    ["it''s", 'its'],
  ])('%s → %s', (word, expected) => {
    expect(expandWord(word, lookup)).toBe(expected);
  });

  it('handles non-ASCII names and astral characters', () => {
    const unicode = (name: string): string | undefined => ({ ÄB: 'umlaut', NAME: 'kiln' })[name];
    expect(expandWord('$ÄB-${UNSET:-😀}-\\😀-"😀$NAME"', unicode)).toBe('umlaut-😀-😀-😀kiln');
    expect(expandWords('😀 $NAME😀', unicode)).toEqual(['😀', 'kiln😀']);
  });

  it('uses the active escape character', () => {
    expect(expandWord('`$NAME c:\\dir', lookup, { escape: '`' })).toBe('$NAME c:\\dir');
    expect(expandWord('"`"x`""', lookup, { escape: '`' })).toBe('"x"');
  });

  it.each([
    ['"open', 'SHELL_UNTERMINATED_QUOTE'],
    ["'open", 'SHELL_UNTERMINATED_QUOTE'],
    ['${NAME', 'SHELL_BAD_SUBSTITUTION'],
    ['${}', 'SHELL_BAD_SUBSTITUTION'],
    ['${:-x}', 'SHELL_BAD_SUBSTITUTION'],
    ['${NAME!x}', 'SHELL_BAD_SUBSTITUTION'],
    ['${NAME:#x}', 'SHELL_BAD_SUBSTITUTION'],
    ['${NAME:-x', 'SHELL_BAD_SUBSTITUTION'],
    ['${NAME/x}', 'SHELL_BAD_SUBSTITUTION'],
    ['${UNSET:?}', 'SHELL_REQUIRED_VARIABLE'],
    ['${EMPTY:?}', 'SHELL_REQUIRED_VARIABLE'],
    ['${UNSET?}', 'SHELL_REQUIRED_VARIABLE'],
    ['${PATHY#\\x}', 'SHELL_INVALID_PATTERN'],
  ])('%s fails with %s', (word, code) => {
    expect(() => expandWord(word, lookup)).toThrow(expect.objectContaining({ code }));
  });

  it('names the variable and the message of ${VAR:?msg}', () => {
    expect(() => expandWord('${UNSET:?set it please}', lookup)).toThrow('UNSET: set it please');
    expect(() => expandWord('${EMPTY:?}', lookup)).toThrow('EMPTY: is not allowed to be empty');
  });
});

describe('expandWords', () => {
  it('splits on whitespace from the text and from variable values, never inside quotes', () => {
    expect(expandWords('a $SPACED "x  y" z\\ w', lookup)).toEqual(['a', 'a', 'b', 'c', 'x  y', 'z w']);
  });

  it('drops empty words, as BuildKit does', () => {
    expect(expandWords('$EMPTY "" a', lookup)).toEqual(['a']);
    expect(expandWords('   ', lookup)).toEqual([]);
  });
});

describe('expandHeredocContent', () => {
  it('substitutes variables, applies backslash escapes and leaves quotes alone', () => {
    expect(expandHeredocContent('name=$NAME\n"q $NAME" \'$NAME\' \\$NAME a\\\\b\n', lookup)).toBe(
      'name=kiln\n"q kiln" \'kiln\' $NAME a\\b\n',
    );
  });

  it('takes a lone apostrophe or quote as text', () => {
    expect(expandHeredocContent("don't stop $NAME\n", lookup)).toBe("don't stop kiln\n");
    expect(expandHeredocContent('say "hi ${UNSET:-there}\n', lookup)).toBe('say "hi there\n');
  });
});
