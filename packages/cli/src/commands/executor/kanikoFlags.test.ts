import { describe, expect, it } from 'vitest';
import { normalizeKanikoArgs } from './kanikoFlags.ts';

const booleans = new Set([
  'no-push',
  'single-snapshot',
  'reproducible',
  'insecure',
  'skip-tls-verify',
  'force',
  'ignore-var-run',
  'no-ignore-var-run',
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
    ).toEqual([
      '--snapshot-mode=redo',
      '--tar-path',
      'out.tar',
      '--kaniko-dir=/k',
      '--image-download-retry',
      '3',
    ]);
  });

  it('takes the deprecated spellings Kaniko v1.24 still accepts', () => {
    expect(
      normalizeKanikoArgs(
        ['--customPlatform=linux/arm64', '--whitelist-var-run=false', '--tarPath=x.tar'],
        booleans,
      ),
    ).toEqual(['--custom-platform=linux/arm64', '--no-ignore-var-run', '--tar-path=x.tar']);
    expect(normalizeKanikoArgs(['--ignore-var-run=false'], booleans)).toEqual(['--no-ignore-var-run']);
    expect(normalizeKanikoArgs(['--ignore-var-run=true'], booleans)).toEqual(['--ignore-var-run']);
  });

  it('reads pflag booleans written as --flag=true/false', () => {
    expect(
      normalizeKanikoArgs(['--no-push=true', '--reproducible=false', '--single-snapshot=true'], booleans),
    ).toEqual(['--no-push', '--single-snapshot']);
    expect(normalizeKanikoArgs(['--no-push=false'], booleans)).toEqual([]);
  });

  it('refuses Kaniko flags Kiln does not support, by name', () => {
    expect(() => normalizeKanikoArgs(['--materialize=true'], booleans)).toThrow(
      /--materialize is not supported by Kiln/,
    );
    expect(() => normalizeKanikoArgs(['--materialize'], booleans)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_KANIKO_FLAG', exitCode: 2 }),
    );
  });

  it('refuses --force-build-metadata and an oci: cache repository, saying why', () => {
    expect(() => normalizeKanikoArgs(['--force-build-metadata'], booleans)).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_KANIKO_FLAG',
        hint: expect.stringContaining('empty_layer'),
      }),
    );
    expect(() => normalizeKanikoArgs(['--cache-repo', 'oci:/cache'], booleans)).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_KANIKO_FLAG',
        hint: expect.stringContaining('--cache-dir'),
      }),
    );
    expect(normalizeKanikoArgs(['--cache-repo=reg/cache'], booleans)).toEqual(['--cache-repo=reg/cache']);
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

  it('passes the context flags through and makes the hidden --bucket a gs:// context that wins', () => {
    expect(
      normalizeKanikoArgs(['--git=branch=main', '--context-sub-path', 'app', '-c', 'git://h/r'], booleans),
    ).toEqual(['--git=branch=main', '--context-sub-path', 'app', '-c', 'git://h/r']);
    expect(normalizeKanikoArgs(['--bucket', 'b1', '--context=/x'], booleans)).toEqual([
      '--context=/x',
      '--context=gs://b1',
    ]);
    expect(normalizeKanikoArgs(['-b=gs://b2'], booleans)).toEqual(['--context=gs://b2']);
  });
});
