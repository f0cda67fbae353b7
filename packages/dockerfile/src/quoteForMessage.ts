/** Longest quoted Dockerfile text in an error message; a hostile line may be megabytes long. */
export const maxQuotedLength = 120;

/** Longest problem description (which may itself quote words of the line). */
export const maxProblemLength = 300;

// C0 and C1 controls, DEL, line and paragraph separators, bidi overrides and isolates, BOM: anything
// that could break the one-line message or make a terminal show something other than the text.
const unprintable = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` for a one-line message: every control character written as an escape (`\n`, `\u0007`),
 * cut after about `max` printed characters with `…` and how many were left out. Only the printed
 * part is ever looked at, so a megabyte line costs no more than a short one. With `quoted`, `"` and
 * `\` are escaped too and the result is wrapped in quotes, as JSON would write it.
 */
export function printable(text: string, max: number, quoted = false): string {
  let out = '';
  let index = 0;
  while (index < text.length && out.length < max) {
    const ch = text[index]!;
    index++;
    if (unprintable.test(ch)) out += named[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else if (quoted && (ch === '"' || ch === '\\')) out += `\\${ch}`;
    else out += ch;
  }
  // Never end on half a surrogate pair.
  const last = text.charCodeAt(index - 1);
  if (index < text.length && last >= 0xd800 && last <= 0xdbff) {
    out = out.slice(0, -1);
    index--;
  }
  const rest = index < text.length ? `… (${text.length - index} more characters)` : '';
  return quoted ? `"${out}"${rest}` : `${out}${rest}`;
}

/** Dockerfile text as an error message quotes it: in quotes, every control escaped, cut short. */
export function quoteForMessage(text: string, max = maxQuotedLength): string {
  return printable(text, max, true);
}
