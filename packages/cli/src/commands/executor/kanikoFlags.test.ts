import { describe, expect, it } from 'vitest';
import { normalizeKanikoArgs } from './kanikoFlags.ts';

const booleans = new Set([
  'no-push',
  'single-snapshot',
  'reproducible',
  'insecure',
  'skip-tls-verify',
  'force',
]);

describe('normalizeKanikoArgs', () => {
  it('keeps Kaniko’s spellings that are already Kiln’s, single dash or double, with = or a space', () => {
    expect(
      normalizeKanikoArgs(
        ['--destination=r/x:1', '-destination=r/y', '-d', 'r/z', '-f', 'Dockerfile', '-c', '/ctx'],
        booleans,
      ),
    ).toEqual(['--destination=r/x:1', '--destination=r/y', '-d', 'r/z', '-f', 'Dockerfile', '-c', '/ctx']);
  });

  it('maps camelCase and renamed flags, and drops flags Kiln always honours', () => {
    expect(
      normalizeKanikoArgs(
        [
          '--snapshotMode=redo',
          '--tarPath',
          'out.tar',
          '--kaniko-dir=/k',
          '--cleanup',
          '--use-new-run',
          '--image-download-retry',
          '3',
          '--skip-unused-stages=true',
        ],
        booleans,
      ),
    ).toEqual(['--snapshot-mode=redo', '--tar-path', 'out.tar', '--kiln-dir=/k']);
  });

  it('reads pflag booleans written as --flag=true/false', () => {
    expect(
      normalizeKanikoArgs(['--no-push=true', '--reproducible=false', '--single-snapshot=true'], booleans),
    ).toEqual(['--no-push', '--single-snapshot']);
    expect(normalizeKanikoArgs(['--no-push=false'], booleans)).toEqual([]);
  });

  it('refuses Kaniko flags Kiln does not support, by name', () => {
    expect(() => normalizeKanikoArgs(['--git=branch=main'], booleans)).toThrow(
      /--git is not supported by Kiln/,
    );
    expect(() => normalizeKanikoArgs(['--registry-map', 'a=b'], booleans)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_KANIKO_FLAG', exitCode: 2 }),
    );
  });

  it("passes --secret and --ssh on to the build (buildx's syntax)", () => {
    expect(normalizeKanikoArgs(['--secret', 'id=npmrc,env=NPM_RC', '--ssh=default'], booleans)).toEqual([
      '--secret',
      'id=npmrc,env=NPM_RC',
      '--ssh=default',
    ]);
  });

  it('leaves unknown flags for the parser to reject', () => {
    expect(normalizeKanikoArgs(['--frobnicate'], booleans)).toEqual(['--frobnicate']);
  });
});
