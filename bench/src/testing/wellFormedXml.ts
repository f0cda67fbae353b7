/** Enough of an XML check for hand-written SVG: every element opened is closed, in order. */
export function isBalancedXml(text: string): boolean {
  const stack: string[] = [];
  for (const match of text.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0 && !/&(?!amp;|lt;|gt;|quot;|apos;)/.test(text);
}
