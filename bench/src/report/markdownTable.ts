export interface MarkdownColumn {
  title: string;
  align?: 'left' | 'right';
}

/**
 * A Markdown table padded the way the repository's formatter (biome) writes one, so a generated
 * README passes `biome check` untouched. Widths count code points, as biome does.
 */
export function markdownTable(columns: MarkdownColumn[], rows: string[][]): string[] {
  const escaped = rows.map((row) => columns.map((_, i) => escapeCell(row[i] ?? '')));
  const widths = columns.map((column, i) =>
    Math.max(3, length(column.title), ...escaped.map((row) => length(row[i]!))),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((text, i) => pad(text, widths[i]!, columns[i]!.align)).join(' | ')} |`;
  const rule = `| ${columns.map((c, i) => (c.align === 'right' ? `${'-'.repeat(widths[i]! - 1)}:` : '-'.repeat(widths[i]!))).join(' | ')} |`;
  return [line(columns.map((c) => c.title)), rule, ...escaped.map(line)];
}

/** Table cells cannot hold pipes or newlines. */
export function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function length(text: string): number {
  return [...text].length;
}

function pad(text: string, width: number, align: MarkdownColumn['align']): string {
  const fill = ' '.repeat(width - length(text));
  return align === 'right' ? fill + text : text + fill;
}
