import { createRegistryClient } from '@kiln/registry';
import { describe, expect, it } from 'vitest';
import {
  parseClientCertificates,
  parseRegistryMap,
  type RegistryFlags,
  registryClientOptions,
} from './registryOptions.ts';

const noFlags: RegistryFlags = {
  insecureRegistry: [],
  skipTlsVerifyRegistry: [],
  registryCertificate: [],
  registryClientCert: [],
  registryMirror: [],
  registryMap: [],
  imageDownloadRetry: 0,
  pushRetry: 0,
};

describe('registry flag values', () => {
  it('--registry-map reads Kaniko’s `;`-separated pairs, repeatable, several mirrors per registry in order', () => {
    expect(
      parseRegistryMap([
        'gcr.io=m1.example;quay.io=q.example/prefix',
        'gcr.io=m2.example',
        'docker.io=hub.example;m3.example',
      ]),
    ).toEqual({
      'gcr.io': ['m1.example', 'm2.example'],
      'quay.io': ['q.example/prefix'],
      'index.docker.io': ['hub.example', 'm3.example'],
    });
    expect(() => parseRegistryMap(['=m.example'])).toThrow(expect.objectContaining({ code: 'INVALID_FLAG' }));
    expect(() => parseRegistryMap(['mirror-only'])).toThrow(
      expect.objectContaining({ code: 'INVALID_FLAG' }),
    );
  });

  it('--registry-client-cert reads host=cert,key', () => {
    expect(parseClientCertificates(['reg.example:5000=/c.pem,/k.pem'])).toEqual({
      'reg.example:5000': { certFile: '/c.pem', keyFile: '/k.pem' },
    });
    expect(() => parseClientCertificates(['reg.example=/c.pem'])).toThrow(
      expect.objectContaining({ code: 'INVALID_FLAG' }),
    );
  });

  it('--insecure covers the destinations and the cache repository, --insecure-pull every other registry', async () => {
    const flags = { ...noFlags, destination: ['push.example/app:1'], cacheRepo: 'cache.example/app/cache' };
    const pushing = createRegistryClient(await registryClientOptions({ ...flags, insecure: true }));
    expect(pushing.baseUrl('push.example')).toBe('http://push.example');
    expect(pushing.baseUrl('cache.example')).toBe('http://cache.example');
    expect(pushing.baseUrl('base.example')).toBe('https://base.example');
    const pulling = createRegistryClient(await registryClientOptions({ ...flags, insecurePull: true }));
    expect(pulling.baseUrl('push.example')).toBe('https://push.example');
    expect(pulling.baseUrl('base.example')).toBe('http://base.example');
  });
});
