import { significant } from './formatFigures.ts';

export interface RatioPoint {
  ratio: number;
  low: number;
  high: number;
}

export interface RatioChartInput {
  title: string;
  /** One bar per series in each row, e.g. `['base', 'new']` for compare, one release for the README. */
  series: string[];
  rows: Array<{ label: string; points: Array<RatioPoint | undefined> }>;
}

const COLORS = ['#9aa5b1', '#2f6fde', '#e07b39', '#3c9d5d'];
const LABEL_WIDTH = 400;
const PLOT_WIDTH = 440;
const BAR_HEIGHT = 12;
const ROW_GAP = 10;
const TOP = 48;
const FONT = 'font-family="ui-sans-serif, system-ui, sans-serif" font-size="12"';

/**
 * Horizontal bars on a log scale centred on 1× (the baseline): a bar going left is faster than the
 * baseline, right is slower, and a whisker spans the per-round ratio range. Hand-written SVG, no deps.
 */
export function ratioChart(input: RatioChartInput): string {
  const values = input.rows.flatMap((row) =>
    row.points.flatMap((p) => (p ? [p.low, p.high, p.ratio] : [])).filter((v) => v > 0 && Number.isFinite(v)),
  );
  const lowest = Math.min(0.5, ...values);
  const highest = Math.max(2, ...values);
  const minLog = Math.floor(Math.log2(lowest));
  const maxLog = Math.ceil(Math.log2(highest));
  const x = (ratio: number) =>
    LABEL_WIDTH + ((Math.log2(Math.max(ratio, 2 ** minLog)) - minLog) / (maxLog - minLog)) * PLOT_WIDTH;
  const rowHeight = input.series.length * BAR_HEIGHT + ROW_GAP;
  const plotHeight = input.rows.length * rowHeight;
  const width = LABEL_WIDTH + PLOT_WIDTH + 50;
  const height = TOP + plotHeight + 40;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="10" y="18" font-size="14" font-weight="bold">${escapeXml(input.title)}</text>`);
  input.series.forEach((name, i) => {
    const lx = LABEL_WIDTH + i * 140;
    parts.push(`<rect x="${lx}" y="28" width="10" height="10" fill="${color(i, input.series.length)}"/>`);
    parts.push(`<text x="${lx + 14}" y="37">${escapeXml(name)}</text>`);
  });
  for (const tick of ticks(minLog, maxLog)) {
    const tx = x(tick);
    const stroke = tick === 1 ? '#333333' : '#e3e6ea';
    parts.push(`<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${TOP + plotHeight}" stroke="${stroke}"/>`);
    parts.push(`<text x="${tx}" y="${TOP + plotHeight + 16}" text-anchor="middle">${tickLabel(tick)}</text>`);
  }
  parts.push(
    `<text x="${LABEL_WIDTH + PLOT_WIDTH / 2}" y="${TOP + plotHeight + 32}" text-anchor="middle" fill="#555555">bars left of 1× are faster than the baseline, right of it slower</text>`,
  );
  input.rows.forEach((row, r) => {
    const y0 = TOP + r * rowHeight;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y0 + (input.series.length * BAR_HEIGHT) / 2 + 4}" text-anchor="end">${escapeXml(shorten(row.label))}<title>${escapeXml(row.label)}</title></text>`,
    );
    row.points.forEach((point, s) => {
      if (!point) return;
      const y = y0 + s * BAR_HEIGHT;
      const from = Math.min(x(1), x(point.ratio));
      const barWidth = Math.max(1, Math.abs(x(point.ratio) - x(1)));
      parts.push(
        `<rect x="${from.toFixed(1)}" y="${y + 1}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT - 2}" fill="${color(s, input.series.length)}"><title>${escapeXml(`${input.series[s] ?? ''}: ${significant(point.ratio)}× (${significant(point.low)}–${significant(point.high)})`)}</title></rect>`,
      );
      const mid = y + BAR_HEIGHT / 2;
      parts.push(
        `<line x1="${x(point.low).toFixed(1)}" y1="${mid}" x2="${x(point.high).toFixed(1)}" y2="${mid}" stroke="#222222"/>`,
      );
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Powers of two over a narrow range, powers of ten over a wide one, so labels never collide. */
function ticks(minLog: number, maxLog: number): number[] {
  if (maxLog - minLog <= 6) {
    return Array.from({ length: maxLog - minLog + 1 }, (_, i) => 2 ** (minLog + i));
  }
  const result: number[] = [];
  for (
    let decade = Math.ceil(minLog * Math.log10(2));
    decade <= Math.floor(maxLog * Math.log10(2));
    decade++
  ) {
    result.push(10 ** decade);
  }
  return result;
}

function tickLabel(ratio: number): string {
  // 0.25×, 0.5×, 1×, 2×: trailing zeros add nothing on an axis.
  return `${Number(ratio.toPrecision(3))}×`;
}

/** Long case names would run into the plot; the full name stays in the tooltip. */
function shorten(label: string): string {
  return label.length <= 54 ? label : `…${label.slice(-53)}`;
}

function color(series: number, count: number): string {
  // A lone series is the figure that matters, not a faded "before".
  return COLORS[(count === 1 ? 1 : series) % COLORS.length]!;
}

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}
