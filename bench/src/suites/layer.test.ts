import { describe, expect, it } from 'vitest';
import { layerTrees } from './layer.ts';

describe('layerTrees (KILN_BENCH_LAYER_TREES)', () => {
  it('defaults to small and large, takes a comma-separated list, and names an unknown tree', () => {
    expect(layerTrees(undefined)).toEqual(['small', 'large']);
    expect(layerTrees(' ')).toEqual(['small', 'large']);
    expect(layerTrees('large')).toEqual(['large']);
    expect(layerTrees('small, quick')).toEqual(['small', 'quick']);
    expect(() => layerTrees('small,huge')).toThrow(/unknown layer tree huge in KILN_BENCH_LAYER_TREES/);
  });
});
