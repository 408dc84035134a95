/**
 * One line for people: the error's message, then each cause's message that
 * adds something (a cause already quoted in the text, as wrapped errno
 * errors usually are, is not repeated), then the error code when the text
 * does not already hold it. Never a stack.
 */
export function describeError(
  error: unknown,
  options: { readonly code?: boolean } = {},
): string {
  const parts: string[] = [];
  let text = '';
  const seen = new Set<unknown>();
  let current: unknown = error;
  let code: string | undefined;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    const message = flatten(messageOf(current));
    code ??= codeOf(current);
    if (message !== '' && !text.includes(message)) {
      // A wrapper repeating its cause's text ("x: ENOENT: …") replaces it.
      parts.push(message);
      text += ` ${message}`;
    }
    current = (current as { cause?: unknown }).cause;
  }
  let line = parts.join(': ') || 'unknown error';
  if (options.code !== false && code !== undefined && !line.includes(code))
    line += ` (${code})`;
  return line;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null) {
    const m = (error as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  }
  return typeof error === 'string' ? error : String(error);
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Multi-line messages (config issue lists) as one line. */
function flatten(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ')
    .replace(/:;/g, ':');
}
