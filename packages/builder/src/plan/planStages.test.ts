import { parseDockerfile } from '@kiln/dockerfile';
import { describe, expect, it } from 'vitest';
import { planStages } from './planStages.ts';
import { platformArgs } from './platformArgs.ts';

const automaticArgs = platformArgs(
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'amd64' },
);

function plan(text: string, options: { target?: string; buildArgs?: Record<string, string> } = {}) {
  return planStages(parseDockerfile(text, { fileName: 'Dockerfile' }), {
    ...(options.target ? { target: options.target } : {}),
    buildArgs: new Map(Object.entries(options.buildArgs ?? {})),
    automaticArgs,
  });
}

describe('planStages', () => {
  it('orders only the stages the target needs, dependencies first', () => {
    const result = plan(`FROM alpine AS base
FROM base AS deps
RUN true
FROM alpine AS unrelated
FROM alpine AS tools
FROM deps AS final
COPY --from=tools /t /t
COPY --from=0 /b /b
`);
    expect(result.order.map((index) => result.stages[index]?.name)).toEqual([
      'base',
      'deps',
      'tools',
      'final',
    ]);
    expect(result.stages[1]?.baseStage).toBe(0);
  });

  it('picks --target, case-insensitively, and rejects an unknown one', () => {
    const result = plan('FROM alpine AS Build\nFROM alpine\n', { target: 'build' });
    expect(result.order).toEqual([0]);
    expect(() => plan('FROM alpine AS a\n', { target: 'nope' })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_TARGET' }),
    );
  });

  it('expands FROM with global ARGs, --build-arg and the automatic platform args only', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax
    const text = 'ARG REPO=library\nARG TAG=1\nFROM ${REPO}/alpine:${TAG}-${TARGETARCH}\n';
    expect(plan(text).stages[0]?.base).toBe('library/alpine:1-arm64');
    expect(plan(text, { buildArgs: { TAG: '2' } }).stages[0]?.base).toBe('library/alpine:2-arm64');
    expect(plan(text).globalArgs.get('TAG')).toBe('1');
  });

  it('keeps the automatic value of a platform ARG declared before FROM without a value', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax
    const result = plan('ARG TARGETARCH\nARG BUILDOS\nFROM busybox:${TARGETARCH}-${BUILDOS}\n');
    expect(result.stages[0]?.base).toBe('busybox:arm64-linux');
    expect(result.globalArgs.get('TARGETARCH')).toBe('arm64');
    expect(
      plan('ARG TARGETARCH\nFROM busybox:$TARGETARCH\n', { buildArgs: { TARGETARCH: 'x' } }).stages[0]?.base,
    ).toBe('busybox:x');
  });

  it('refuses instructions before FROM (other than ARG), unknown --from stages and no FROM at all', () => {
    expect(() => plan('RUN true\nFROM alpine\n')).toThrow(expect.objectContaining({ code: 'NO_FROM' }));
    expect(() => plan('ARG X\n')).toThrow(expect.objectContaining({ code: 'NO_FROM' }));
    expect(() => plan('FROM alpine\nCOPY --from=builder /a /a\n')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_STAGE' }),
    );
    expect(() =>
      plan(
        'FROM alpine AS a\nFROM alpine\nCOPY --from=a /x /x\nFROM alpine AS b\nCOPY --from=c /x /x\nFROM alpine AS c\n',
      ),
    ).toThrow(expect.objectContaining({ code: 'UNKNOWN_STAGE' }));
  });

  it('treats a --from with a registry, tag or path as an image, not a stage', () => {
    const result = plan('FROM alpine\nCOPY --from=docker.io/library/busybox:1 /bin/busybox /busybox\n');
    expect(result.stages[0]?.dependencies).toEqual([]);
  });
});
