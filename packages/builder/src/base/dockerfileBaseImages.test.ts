import { describe, expect, it } from 'vitest';
import { dockerfileBaseImages } from './dockerfileBaseImages.ts';

describe('dockerfileBaseImages', () => {
  it('lists each FROM image once, expanded, without stage names or scratch', () => {
    // biome-ignore-start lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not template strings
    const text = [
      'ARG REGISTRY=r.example:5000',
      'ARG TAG',
      'FROM $REGISTRY/base:${TAG:-1} AS build',
      'FROM build AS again',
      'FROM scratch',
      'FROM --platform=linux/arm64 r.example:5000/tools@sha256:' + 'a'.repeat(64),
      'FROM r.example:5000/base:2',
      'FROM ${REGISTRY}/base:2',
    ].join('\n');
    // biome-ignore-end lint/suspicious/noTemplateCurlyInString: Dockerfile variables
    expect(
      dockerfileBaseImages(text, { fileName: 'Dockerfile', buildArgs: new Map([['TAG', '2']]) }),
    ).toEqual([
      { reference: 'r.example:5000/base:2' },
      {
        reference: `r.example:5000/tools@sha256:${'a'.repeat(64)}`,
        platform: { os: 'linux', architecture: 'arm64' },
      },
    ]);
  });
});
