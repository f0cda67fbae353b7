/** Generated Markdown tables are padded to align; tests match rows with single spaces. */
export function squeeze(text: string): string {
  return text.replace(/ {2,}/g, ' ');
}
