import { expect, it } from 'vitest';
import { compileIgnoreRules, globToRegExp, isPathIgnored } from './ignoreRules.ts';

it('matches prefixes as whole path components', () => {
  const ignored = compileIgnoreRules(['/var/cache/', 'tmp']);
  expect(isPathIgnored(ignored, 'var/cache/apt/x')).toBe(true);
  expect(isPathIgnored(ignored, 'var/cache')).toBe(true);
  expect(isPathIgnored(ignored, 'var/cache2')).toBe(false);
  expect(isPathIgnored(ignored, 'tmpfile')).toBe(false);
});

it('matches globs: * within a component, ** across, ? and classes', () => {
  expect(globToRegExp('*.log').test('a.log')).toBe(true);
  expect(globToRegExp('*.log').test('d/a.log')).toBe(false);
  expect(globToRegExp('**/*.log').test('d/e/a.log')).toBe(true);
  expect(globToRegExp('**/*.log').test('a.log')).toBe(true);
  expect(globToRegExp('var/**').test('var/x/y')).toBe(true);
  expect(globToRegExp('f?[0-9]').test('fa7')).toBe(true);
  expect(globToRegExp('f[!0-9]').test('f7')).toBe(false);
  expect(globToRegExp('a.b').test('axb')).toBe(false);
});
