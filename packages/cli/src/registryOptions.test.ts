import { describe, expect, it } from 'vitest';
import { parseClientCertificates, parseRegistryMap } from './registryOptions.ts';

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
});
