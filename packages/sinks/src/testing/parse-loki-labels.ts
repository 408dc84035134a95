/**
 * Parse a Loki stream selector `{a="b", c="d"}` like Loki's push path does.
 * Returns the labels, or Loki's parse error text.
 */
export function parseLokiLabels(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  let i = 0;
  const err = (what: string): string => `1:${i + 1}: parse error: ${what}`;
  const skip = (): void => {
    while (text[i] === ' ') i++;
  };
  skip();
  if (text[i] !== '{') return err(`unexpected character: '${text[i] ?? ''}'`);
  i++;
  skip();
  if (text[i] === '}') return out;
  for (;;) {
    skip();
    const start = i;
    while (i < text.length && /[a-zA-Z0-9_]/.test(text[i] as string)) i++;
    const name = text.slice(start, i);
    skip();
    if (text[i] !== '=' || name === '' || /^[0-9]/.test(name)) {
      return err(`unexpected character inside braces: '${text[i] ?? ''}'`);
    }
    i++;
    skip();
    if (text[i] !== '"')
      return err(`unexpected character inside braces: '${text[i] ?? ''}'`);
    const vStart = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) return err('unterminated quoted string');
    i++;
    try {
      out[name] = JSON.parse(text.slice(vStart, i)) as string;
    } catch {
      return err('invalid quoted string');
    }
    skip();
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '}') return out;
    return err(`unexpected character inside braces: '${text[i] ?? ''}'`);
  }
}
