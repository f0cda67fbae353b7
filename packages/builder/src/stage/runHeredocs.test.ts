import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDockerfile, type RunInstruction } from '@kiln/dockerfile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBuilder, type TestBuilder } from '../testing/testBuild.ts';
import { checkScriptName, scriptArgv, shellRun } from './runHeredocs.ts';
import { runCacheText } from './runInstruction.ts';

function run(text: string): RunInstruction {
  const instruction = parseDockerfile(`FROM scratch\n${text}`).instructions[1];
  if (instruction?.kind !== 'RUN' || instruction.form !== 'shell') throw new Error('not a shell RUN');
  return instruction;
}

function shellScript(text: string) {
  const instruction = run(text);
  if (instruction.form !== 'shell') throw new Error('exec form');
  return shellRun(instruction.command, instruction.heredocs);
}

describe('shellRun: what the shell gets for a RUN with heredocs (BuildKit dispatchRun)', () => {
  it('a lone heredoc is the script itself; quotes, <<- and fd numbers do not change that', () => {
    expect(shellScript('RUN <<EOF\necho hi\nEOF')).toEqual({ script: 'echo hi\n' });
    expect(shellScript("RUN <<'EOF'\necho $HOME\nEOF")).toEqual({ script: 'echo $HOME\n' });
    expect(shellScript('RUN <<-EOF\n\techo hi\n\tEOF')).toEqual({ script: 'echo hi\n' });
    expect(shellScript('RUN << EOF\necho hi\nEOF')).toEqual({ script: 'echo hi\n' });
  });

  it('a lone heredoc starting with #! runs as a file in /dev/pipes', () => {
    expect(shellScript('RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF')).toEqual({
      script: '/dev/pipes/EOF',
      file: { name: 'EOF', content: '#!/usr/bin/env python3\nprint(1)\n' },
    });
  });

  it('any other command gets every body and terminator appended for the shell to read', () => {
    expect(shellScript('RUN cat <<EOF > /file\nhello\nEOF').script).toBe('cat <<EOF > /file\nhello\nEOF');
    expect(shellScript('RUN <<A sh && <<B sh\necho a\nA\necho b\nB').script).toBe(
      '<<A sh && <<B sh\necho a\nA\necho b\nB',
    );
    // A #! body that is not the whole command is stdin like any other.
    expect(shellScript('RUN <<EOF python3\n#!/bin/x\nEOF')).toEqual({
      script: '<<EOF python3\n#!/bin/x\nEOF',
    });
  });

  it('runs a #! script as the kernel would: interpreter, its one optional argument, the path', () => {
    expect(scriptArgv('#!/bin/sh\necho\n', '/dev/pipes/EOF')).toEqual(['/bin/sh', '/dev/pipes/EOF']);
    expect(scriptArgv('#! /usr/bin/env python3 -u \nprint()\n', '/p')).toEqual([
      '/usr/bin/env',
      'python3 -u',
      '/p',
    ]);
    expect(scriptArgv('#!/bin/sh -e\r\n', '/p')).toEqual(['/bin/sh', '-e', '/p']);
    expect(scriptArgv('#!\necho\n', '/p')).toBeUndefined();
  });

  it('a #! heredoc whose name is not one file name is refused before anything is written', () => {
    for (const name of ['../../etc/x', 'a/b', '..', '.']) {
      expect(() => checkScriptName(name, 'Dockerfile:2')).toThrow(
        expect.objectContaining({ code: 'RUN_HEREDOC_NAME' }),
      );
    }
    expect(() => checkScriptName('EOF', 'Dockerfile:2')).not.toThrow();
  });

  it('the cache text of a #! heredoc covers its body, which the argv only names', () => {
    const one = run('RUN <<EOF\n#!/bin/sh\necho one\nEOF');
    const two = run('RUN <<EOF\n#!/bin/sh\necho two\nEOF');
    expect(runCacheText('RUN /bin/sh -c /dev/pipes/EOF', one)).not.toBe(
      runCacheText('RUN /bin/sh -c /dev/pipes/EOF', two),
    );
  });
});

describe('RUN with heredocs builds what BuildKit builds', () => {
  let builder: TestBuilder;
  beforeAll(async () => {
    builder = await createTestBuilder();
  });
  afterAll(() => builder.dispose());

  it('redirections, several heredocs per line, quoting, <<- and fds reach the shell', {
    timeout: 60_000,
  }, async () => {
    const { tree } = await builder.build(
      'forms',
      [
        'FROM busybox',
        'ENV WHO=kiln',
        'RUN cat <<EOF > /expanded',
        'hello $WHO',
        'EOF',
        "RUN cat <<'EOF' > /literal",
        'hello $WHO',
        'EOF',
        'RUN <<A sh && <<B sh',
        'echo a > /a',
        'A',
        'echo b > /b',
        'B',
        'RUN <<-EOT sh',
        '\techo "tabbed body" > /chomped',
        '\tcat <<-INNER > /inner',
        '\t\tinner line',
        '\tINNER',
        '\tEOT',
        'RUN cat 3<<THREE <&3 > /fd3',
        'from fd three',
        'THREE',
        'COPY <<END-OF <<"q-name" /copied/',
        'x $WHO',
        'END-OF',
        'y $WHO',
        'q-name',
        'RUN cat <<ONE - <<TWO > /two',
        'first',
        'ONE',
        'second',
        'TWO',
        '',
      ].join('\n'),
      {},
    );
    const read = (path: string) => readFile(join(tree, path), 'utf8');
    expect(await read('expanded')).toBe('hello kiln\n');
    expect(await read('literal')).toBe('hello $WHO\n');
    expect(await read('a')).toBe('a\n');
    expect(await read('b')).toBe('b\n');
    expect(await read('chomped')).toBe('tabbed body\n');
    expect(await read('inner')).toBe('inner line\n');
    expect(await read('fd3')).toBe('from fd three\n');
    expect(await read('two')).toBe('second\n');
    // COPY heredoc names are any word BuildKit reads as one; a quoted one is not expanded.
    expect(await read('copied/END-OF')).toBe('x kiln\n');
    expect(await read('copied/q-name')).toBe('y $WHO\n');
  });

  it('a #! body runs as a file through its interpreter, as any user, and leaves no trace', {
    timeout: 60_000,
  }, async () => {
    const { tree, events } = await builder.build(
      'shebang',
      [
        'FROM busybox',
        'RUN <<EOF',
        '#!/bin/sh',
        'echo "$0" > /script-name',
        'EOF',
        'RUN <<EOF',
        '#!/bin/cat',
        'printed by cat, not run by sh',
        'EOF',
        'USER app',
        'RUN <<-EOF',
        '\t#!/bin/sh',
        '\tid -u > /tmp/uid',
        '\tEOF',
        '',
      ].join('\n'),
      {},
    );
    expect(await readFile(join(tree, 'script-name'), 'utf8')).toBe('/dev/pipes/EOF\n');
    const output = events.flatMap((event) => (event.type === 'run-output' ? [event.line] : []));
    expect(output).toContain('printed by cat, not run by sh');
    expect(await readFile(join(tree, 'tmp/uid'), 'utf8')).toBe('1000\n');
    await expect(access(join(tree, 'dev'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
