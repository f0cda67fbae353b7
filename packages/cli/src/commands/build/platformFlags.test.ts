import { describe, expect, it } from 'vitest';
import { platformsFromFlags } from './platformFlags.ts';

describe('platformsFromFlags', () => {
  it('splits comma lists, takes repeats and drops duplicates in order', () => {
    expect(platformsFromFlags(['linux/amd64,linux/arm64', 'linux/arm/v7', 'linux/amd64'])).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
  });

  it('takes Kaniko’s single --custom-platform, and nothing means the host’s', () => {
    expect(platformsFromFlags(undefined, 'linux/arm64/v8')).toEqual([
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    expect(platformsFromFlags([])).toEqual([]);
  });

  it('refuses empty entries, bad platforms and both flags at once', () => {
    expect(() => platformsFromFlags(['linux/amd64,'])).toThrow(/empty entry/);
    expect(() => platformsFromFlags(['amd64'])).toThrow(/--platform "amd64" is not os\/arch/);
    expect(() => platformsFromFlags(['linux/amd64'], 'linux/arm64')).toThrow(/cannot be combined/);
  });
});
