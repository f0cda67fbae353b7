import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type FaultProxy, startFaultProxy, startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import {
  BlobStore,
  type ImageConfig,
  type ImageManifest,
  MediaType,
  readOciLayout,
  writeOciLayout,
} from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../index.ts';
import { captureOutput } from '../../testing/captureOutput.ts';
import { parseLayoutArgument } from './pushCommand.ts';

const execFileAsync = promisify(execFile);
let registry: TestRegistry;
let secured: TestRegistry;
let proxy: FaultProxy;
let layout: string;

/** A two-layer image in an OCI layout, tagged `v1`. */
async function writeTestLayout(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-cli-layout-'));
  const store = new BlobStore(await mkdtemp(join(tmpdir(), 'kiln-cli-store-')));
  const layers = [];
  for (const text of ['first layer', 'second layer']) {
    const bytes = Buffer.from(text.repeat(500));
    const { digest, size } = await store.write(bytes);
    layers.push({ mediaType: MediaType.ociLayer, digest, size });
  }
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  };
  const written = await store.writeJson(config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: written.digest, size: written.size },
    layers,
  };
  await writeOciLayout(dir, [{ manifest, config, tag: 'v1' }], store);
  return dir;
}

beforeAll(async () => {
  [registry, secured] = await Promise.all([
    startRegistry({ mode: 'plain' }),
    startRegistry({ mode: 'basic', tls: true }),
  ]);
  proxy = await startFaultProxy({ target: registry.url });
  layout = await writeTestLayout();
});
afterAll(async () => {
  await proxy?.stop();
  await Promise.all([registry?.stop(), secured?.stop()]);
});

describe('kiln push and kiln pull', () => {
  it('parses DIR[:TAG]', () => {
    expect(parseLayoutArgument('out')).toEqual({ dir: 'out', tag: undefined });
    expect(parseLayoutArgument('out:v1')).toEqual({ dir: 'out', tag: 'v1' });
    expect(parseLayoutArgument('./a:b/dir')).toEqual({ dir: './a:b/dir', tag: undefined });
  });

  it('pushes a layout to several tags, then pulls it back into a layout skopeo reads', async () => {
    const output = captureOutput();
    const code = await runCli(
      [
        'push',
        `${layout}:v1`,
        `${registry.host}/cli/app:1`,
        `${registry.host}/cli/app:latest`,
        '--insecure-registry',
        registry.host,
      ],
      output,
    );
    expect(output.err).not.toContain('error');
    expect(code).toBe(0);
    const lines = output.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${registry.host}/cli/app:1@sha256:[a-f0-9]{64}$`));
    await execFileAsync('skopeo', [
      'inspect',
      '--tls-verify=false',
      `docker://${registry.host}/cli/app:latest`,
    ]);

    const pulled = await mkdtemp(join(tmpdir(), 'kiln-cli-pulled-'));
    const pull = captureOutput();
    expect(
      await runCli(['pull', `${registry.host}/cli/app:1`, '--oci-layout', pulled, '--insecure'], pull),
    ).toBe(0);
    expect(pull.out.trim()).toBe(`${registry.host}/cli/app@${lines[0]!.split('@')[1]}`);
    const image = await readOciLayout(pulled, '1');
    expect(image.layers).toHaveLength(2);
    await execFileAsync('skopeo', ['inspect', `oci:${pulled}:1`]);
  });

  it('uses DOCKER_CONFIG credentials and --registry-certificate for a TLS registry with Basic auth', async () => {
    const previous = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = await secured.dockerConfig();
    try {
      const output = captureOutput();
      const code = await runCli(
        [
          'push',
          `${layout}:v1`,
          `${secured.host}/cli/secure:1`,
          '--registry-certificate',
          `${secured.host}=${secured.caFile}`,
        ],
        output,
      );
      expect(output.err).not.toContain(secured.password!);
      expect(code).toBe(0);
      const denied = captureOutput();
      process.env.DOCKER_CONFIG = await mkdtemp(join(tmpdir(), 'kiln-empty-config-'));
      await writeFile(join(process.env.DOCKER_CONFIG, 'config.json'), '{"auths":{}}');
      expect(
        await runCli(
          [
            'push',
            `${layout}:v1`,
            `${secured.host}/cli/secure:2`,
            '--registry-certificate',
            `${secured.host}=${secured.caFile}`,
          ],
          denied,
        ),
      ).not.toBe(0);
      expect(denied.err).toMatch(/^error: .*HTTP 401/);
      expect(denied.err).toContain('hint: ');
    } finally {
      if (previous === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = previous;
    }
  });

  it('exits non-zero with a clear error when retries run out, and pushes no manifest', async () => {
    proxy.setFaults([{ method: 'PUT', path: '/blobs/uploads/', fault: { kind: 'status', status: 503 } }]);
    const output = captureOutput();
    const code = await runCli(
      [
        'push',
        `${layout}:v1`,
        `${proxy.host}/cli/broken:1`,
        '--insecure-registry',
        proxy.host,
        '--push-retry',
        '1',
      ],
      output,
    );
    expect(code).not.toBe(0);
    expect(output.err).toMatch(
      /error: push blob sha256:[a-f0-9]+ on 127\.0\.0\.1:\d+\/cli\/broken failed with HTTP 503/,
    );
    expect(output.err).toContain('retry 1 of push blob');
    expect(proxy.requests.some((r) => r.path.includes('/manifests/'))).toBe(false);
  });

  it('--log-format json: registry events and the result as JSON lines, for push and pull alike', async () => {
    proxy.setFaults([
      { method: 'PUT', path: '/blobs/uploads/', times: 1, fault: { kind: 'status', status: 503 } },
    ]);
    const parse = (text: string) =>
      text
        .trim()
        .split('\n')
        .map(
          (line) => JSON.parse(line) as { type: string; event?: { type: string }; [key: string]: unknown },
        );
    const push = captureOutput();
    const destination = `${proxy.host}/cli/json:1`;
    const args = ['--insecure-registry', proxy.host, '--log-format', 'json'];
    expect(await runCli(['push', `${layout}:v1`, destination, ...args], push)).toBe(0);
    expect(push.err).toBe('');
    const pushed = parse(push.out);
    expect(pushed.find((line) => line.type === 'registry' && line.event?.type === 'retry')).toMatchObject({
      event: { attempt: 1, operation: expect.stringContaining('push blob') },
    });
    expect(pushed.filter((line) => line.event?.type === 'blob-done')).toHaveLength(3);
    const result = pushed.at(-1)!;
    expect(result).toMatchObject({ type: 'result', destinations: [destination] });

    proxy.setFaults([]);
    const pull = captureOutput();
    const into = await mkdtemp(join(tmpdir(), 'kiln-cli-pulled-'));
    expect(await runCli(['pull', destination, '--oci-layout', into, ...args], pull)).toBe(0);
    const pulled = parse(pull.out);
    expect(pulled.filter((line) => line.event?.type === 'blob-done')).toHaveLength(3);
    expect(pulled.at(-1)).toEqual({
      time: expect.any(String),
      type: 'result',
      images: [`${proxy.host}/cli/json@${String(result.digest)}`],
    });
  });

  it('rejects pull without --oci-layout', async () => {
    const output = captureOutput();
    expect(await runCli(['pull', 'alpine'], output)).not.toBe(0);
    expect(output.err).toContain('--oci-layout');
  });
});
