import { describe, expect, it } from 'vitest';
import { isBalancedXml } from '../testing/wellFormedXml.ts';
import { ratioChart } from './ratioChart.ts';

const tickLabels = (svg: string) =>
  [...svg.matchAll(/<text [^>]*text-anchor="middle">([^<]*×)<\/text>/g)].map((m) => m[1]);

describe('ratioChart', () => {
  it('draws one bar per series and row, with the names escaped and a 1× axis', () => {
    const svg = ratioChart({
      title: 'ratios',
      series: ['base', 'new'],
      rows: [
        { label: 'snapshot a<b: kiln', points: [{ ratio: 0.8, low: 0.7, high: 0.9 }, undefined] },
        {
          label: 'layer c: kiln',
          points: [
            { ratio: 1.5, low: 1.4, high: 1.6 },
            { ratio: 1.2, low: 1.1, high: 1.3 },
          ],
        },
      ],
    });
    expect(isBalancedXml(svg)).toBe(true);
    expect(svg).toContain('snapshot a&lt;b: kiln');
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(3);
    expect(tickLabels(svg)).toEqual(['0.5×', '1×', '2×']);
  });

  it('switches to decade ticks when the ratios span a wide range', () => {
    const svg = ratioChart({
      title: 'wide',
      series: ['run'],
      rows: [{ label: 'x', points: [{ ratio: 0.012, low: 0.011, high: 0.015 }] }],
    });
    expect(tickLabels(svg)).toEqual(['0.01×', '0.1×', '1×']);
  });
});
