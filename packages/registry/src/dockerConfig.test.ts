import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  credentialsFromConfig,
  dockerConfigCandidates,
  loadDockerConfig,
  normalizeRegistryKey,
} from './dockerConfig.ts';

const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

describe('Docker config.json credentials', () => {
  it.each([
    ['https://index.docker.io/v1/', 'index.docker.io'],
    ['docker.io', 'index.docker.io'],
    ['registry-1.docker.io', 'index.docker.io'],
    ['registry.example.com:5000', 'registry.example.com:5000'],
    ['https://registry.example.com', 'registry.example.com'],
    ['http://Registry.Example.com:5000/v2/', 'registry.example.com:5000'],
    ['gitlab.example.com:4567', 'gitlab.example.com:4567'],
  ])('normalises the auths key %s to %s', (key, registry) => {
    expect(normalizeRegistryKey(key)).toBe(registry);
  });

  it('searches $DOCKER_CONFIG, then ~/.docker, then /kaniko/.docker', () => {
    expect(dockerConfigCandidates({ env: { DOCKER_CONFIG: '/tekton/home/.docker' }, home: '/root' })).toEqual(
      ['/tekton/home/.docker/config.json', '/root/.docker/config.json', '/kaniko/.docker/config.json'],
    );
    expect(dockerConfigCandidates({ env: {}, home: '/home/ci' })).toEqual([
      '/home/ci/.docker/config.json',
      '/kaniko/.docker/config.json',
    ]);
  });

  it('reads the first config.json that exists', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kiln-home-'));
    await mkdir(join(home, '.docker'));
    await writeFile(
      join(home, '.docker', 'config.json'),
      JSON.stringify({ auths: { 'r.example': { auth: auth('u', 'p1') } } }),
    );
    const source = await loadDockerConfig({ env: { DOCKER_CONFIG: join(home, 'missing') }, home });
    const found = await source.lookup('r.example');
    expect(found.credential).toEqual({ username: 'u', password: 'p1' });
    expect(found.source).toContain(join(home, '.docker', 'config.json'));
  });

  it('answers Kaniko-style entries: Docker Hub URL key, bare host, username/password, tokens', async () => {
    const source = credentialsFromConfig(
      {
        auths: {
          'https://index.docker.io/v1/': { auth: auth('hub', 'hubpw') },
          'gitlab.example.com:4567': { username: 'gitlab-ci-token', password: 'ci-pw' },
          'https://ghcr.io': { identitytoken: 'refresh-me' },
          'tok.example': { registrytoken: 'bearer-me' },
          'empty.example': {},
        },
      },
      '/kaniko/.docker/config.json',
    );
    expect((await source.lookup('index.docker.io')).credential).toEqual({
      username: 'hub',
      password: 'hubpw',
    });
    expect((await source.lookup('gitlab.example.com:4567')).credential).toEqual({
      username: 'gitlab-ci-token',
      password: 'ci-pw',
    });
    expect((await source.lookup('ghcr.io')).credential).toEqual({ identityToken: 'refresh-me' });
    expect((await source.lookup('tok.example')).credential).toEqual({ registryToken: 'bearer-me' });
    const missing = await source.lookup('empty.example');
    expect(missing.credential).toBeUndefined();
    expect(missing.source).toContain('no auths entry for empty.example');
    expect(missing.source).not.toContain('hubpw');
  });

  it('refuses an auth field that is not base64 user:password, without echoing it', async () => {
    const source = credentialsFromConfig(
      { auths: { 'r.example': { auth: 'bm9jb2xvbg==' } } },
      '/x/config.json',
    );
    await expect(source.lookup('r.example')).rejects.toMatchObject({ code: 'INVALID_DOCKER_CONFIG' });
  });

  it('reports invalid JSON as INVALID_DOCKER_CONFIG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-badjson-'));
    await writeFile(join(dir, 'config.json'), '{"auths": {"x": {"auth": "c2VjcmV0OnB3"}');
    await expect(loadDockerConfig({ env: { DOCKER_CONFIG: dir }, home: dir })).rejects.toMatchObject({
      code: 'INVALID_DOCKER_CONFIG',
    });
  });
});
