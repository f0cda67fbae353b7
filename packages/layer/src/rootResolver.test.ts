import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RootResolver, resolveInRootSync, resolvePathInRoot } from './rootResolver.ts';

let base: string;
let root: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'kiln-resolver-'));
  root = join(base, 'root');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'secret'), 'host');
  symlinkSync('/etc', join(root, 'abs'));
  symlinkSync('../../outside', join(root, 'climb'));
  symlinkSync(join(base, 'outside'), join(root, 'host'));
  symlinkSync('loop', join(root, 'loop'));
});

afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('resolvePathInRoot', () => {
  it('clamps paths a Dockerfile names at the root, as a chroot does', () => {
    expect(resolveInRootSync(root, '../../outside/secret')).toBe(join(root, 'outside/secret'));
    expect(resolveInRootSync(root, 'abs/passwd')).toBe(join(root, 'etc/passwd'));
    expect(resolveInRootSync(root, 'climb/secret')).toBe(join(root, 'outside/secret'));
    // An absolute host path as a link target restarts at the root, never at the host's /.
    expect(resolveInRootSync(root, 'host/secret')).toBe(join(root, base, 'outside/secret'));
    expect(resolveInRootSync(root, '/')).toBe(root);
  });

  it('leaves the last link alone unless asked to follow it', () => {
    expect(resolveInRootSync(root, 'abs', false)).toBe(join(root, 'abs'));
    expect(resolveInRootSync(root, 'abs', true)).toBe(join(root, 'etc'));
  });

  it('refuses, for layer entries, a link that climbs above the root', () => {
    expect(() => resolvePathInRoot(root, ['climb', 'x'], { aboveRoot: 'refuse' })).toThrow(
      expect.objectContaining({ code: 'LAYER_UNSAFE_PATH' }),
    );
    expect(() => new RootResolver(root).resolveDir('climb/x', ['climb', 'x'], true)).toThrow(
      expect.objectContaining({ code: 'LAYER_UNSAFE_PATH' }),
    );
  });

  it('refuses NUL and link loops with a KilnError', () => {
    expect(() => resolveInRootSync(root, 'a\0b')).toThrow(
      expect.objectContaining({ code: 'PATH_UNRESOLVABLE' }),
    );
    expect(() => resolveInRootSync(root, 'loop/x')).toThrow(
      expect.objectContaining({ code: 'PATH_UNRESOLVABLE' }),
    );
    expect(() => resolvePathInRoot(root, ['loop', 'x'], { aboveRoot: 'refuse' })).toThrow(
      expect.objectContaining({ code: 'LAYER_UNSAFE_PATH' }),
    );
  });

  it('creates missing directories only inside the root', () => {
    const resolver = new RootResolver(root);
    expect(resolver.resolveDir('abs/new/dir', ['abs', 'new', 'dir'], true)).toBe('etc/new/dir');
    expect(() => resolver.resolveDir('nope/x', ['nope', 'x'], false)).toThrow(
      expect.objectContaining({ code: 'LAYER_PATH_MISSING' }),
    );
  });
});
