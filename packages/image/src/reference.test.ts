import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifestIdentifier, parseReference, withDigest, withTag } from './reference.ts';

const digest = `sha256:${'a'.repeat(64)}` as const;

describe('parseReference', () => {
  it.each([
    ['alpine', 'index.docker.io', 'library/alpine', 'latest', undefined],
    ['alpine:3.20', 'index.docker.io', 'library/alpine', '3.20', undefined],
    ['cnych/kaniko-test:v0.0.1', 'index.docker.io', 'cnych/kaniko-test', 'v0.0.1', undefined],
    ['docker.io/alpine', 'index.docker.io', 'library/alpine', 'latest', undefined],
    ['docker.io/library/alpine', 'index.docker.io', 'library/alpine', 'latest', undefined],
    [
      'index.docker.io/arthurk/tekton-test:latest',
      'index.docker.io',
      'arthurk/tekton-test',
      'latest',
      undefined,
    ],
    ['registry-1.docker.io/x/y', 'index.docker.io', 'x/y', 'latest', undefined],
    ['127.0.0.1:5000/app', '127.0.0.1:5000', 'app', 'latest', undefined],
    ['127.0.0.1:5000/team/app:1.0', '127.0.0.1:5000', 'team/app', '1.0', undefined],
    ['localhost/x', 'localhost', 'x', 'latest', undefined],
    ['localhost:5000/a/b/c', 'localhost:5000', 'a/b/c', 'latest', undefined],
    ['ghcr.io/org/img', 'ghcr.io', 'org/img', 'latest', undefined],
    ['[::1]:5000/app:v', '[::1]:5000', 'app', 'v', undefined],
    ['Registry.Example.COM/app', 'registry.example.com', 'app', 'latest', undefined],
    [`alpine@${digest}`, 'index.docker.io', 'library/alpine', undefined, digest],
    [`host:5000/app:1@${digest}`, 'host:5000', 'app', '1', digest],
    ['my_app/a__b/c-d--e/f.g', 'index.docker.io', 'my_app/a__b/c-d--e/f.g', 'latest', undefined],
  ])('%s', (text, registry, repository, tag, expectedDigest) => {
    const reference = parseReference(text);
    expect(reference.registry).toBe(registry);
    expect(reference.repository).toBe(repository);
    expect(reference.tag).toBe(tag);
    expect(reference.digest).toBe(expectedDigest);
  });

  it('formats canonically', () => {
    expect(String(parseReference('alpine'))).toBe('index.docker.io/library/alpine:latest');
    expect(parseReference(`127.0.0.1:5000/app@${digest}`).toString()).toBe(`127.0.0.1:5000/app@${digest}`);
    expect(parseReference('x/y:t', { defaultTag: 'nope' }).toString()).toBe('index.docker.io/x/y:t');
    expect(parseReference('x/y', { defaultTag: 'dev' }).tag).toBe('dev');
  });

  it.each([
    '',
    '  ',
    'Alpine',
    'team/UPPER',
    'alpine:',
    'alpine:-bad',
    `alpine:${'t'.repeat(129)}`,
    'alpine@sha256:abc',
    'alpine@md5:0123',
    'https://registry/app',
    'host:5000/',
    'a//b',
    '-a/b',
    'a/b_',
    'bad host:5000/x',
    `${'a'.repeat(250)}/b/c`,
  ])('rejects %j with INVALID_REFERENCE', (text) => {
    expect(() => parseReference(text)).toThrow(expect.objectContaining({ code: 'INVALID_REFERENCE' }));
  });

  it('re-parses its own output to the same reference', () => {
    const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8})?$/);
    fc.assert(
      fc.property(
        fc.constantFrom('', 'docker.io/', 'localhost:5000/', 'reg.example.com/', '10.0.0.1:443/'),
        fc.array(component, { minLength: 1, maxLength: 3 }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/), { nil: undefined }),
        (registry, path, tag) => {
          const text = `${registry}${path.join('/')}${tag === undefined ? '' : `:${tag}`}`;
          const once = parseReference(text);
          expect(parseReference(once.toString()).toString()).toBe(once.toString());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('derives tagged and pinned references', () => {
    const reference = parseReference('127.0.0.1:5000/app:1');
    expect(withTag(reference, '2').toString()).toBe('127.0.0.1:5000/app:2');
    expect(manifestIdentifier(reference)).toBe('1');
    expect(manifestIdentifier(withDigest(reference, digest))).toBe(digest);
    expect(() => withTag(reference, '.x')).toThrow(expect.objectContaining({ code: 'INVALID_REFERENCE' }));
  });
});
