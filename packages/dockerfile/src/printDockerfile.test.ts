import { describe, expect, it } from 'vitest';
import { parseDockerfile } from './parseDockerfile.ts';
import { printDockerfile } from './printDockerfile.ts';

describe('printDockerfile', () => {
  it('prints one line per instruction, flags quoted where needed, heredoc bodies after their line', () => {
    const source = [
      '# syntax=docker/dockerfile:1',
      '# escape=`',
      'from --platform=$P golang AS Build',
      'RUN --mount="type=cache,target=/a b" `',
      '  # comment',
      '    go build',
      'ENV PATH /go/bin:$PATH',
      'ENV MSG hello  world',
      'ENV A="x y" B=z',
      'COPY ["my file", "/dst/"]',
      'VOLUME ["/data", "/var/lib/x"]',
      'VOLUME ["--odd"]',
      'ONBUILD RUN <<-EOF',
      '\techo hi',
      '\tEOF',
      'HEALTHCHECK --retries=3 CMD ["true"]',
      'healthcheck none',
      '',
    ].join('\n');
    expect(printDockerfile(parseDockerfile(source))).toBe(
      [
        '# syntax=docker/dockerfile:1',
        '# escape=`',
        'FROM --platform=$P golang AS build',
        'RUN --mount="type=cache,target=/a b" go build',
        'ENV PATH=/go/bin:$PATH',
        'ENV MSG hello  world',
        'ENV A="x y" B=z',
        'COPY ["my file", "/dst/"]',
        'VOLUME /data /var/lib/x',
        'VOLUME ["--odd"]',
        'ONBUILD RUN <<-EOF',
        'echo hi',
        'EOF',
        'HEALTHCHECK --retries=3 CMD ["true"]',
        'HEALTHCHECK NONE',
        '',
      ].join('\n'),
    );
  });
});
