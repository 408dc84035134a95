import { compileGlob, expandBraces } from './internal/glob.js';

/**
 * Why `pattern` is not a valid glob, or undefined when it is: an unclosed
 * or unmatched `{`/`}`, an unclosed `[`, or a character class that does not
 * compile (`[z-a]`). Write `\{`, `\}` or `\[` for the literal character.
 * Without this check such a pattern would silently match nothing.
 */
export function globSyntaxError(pattern: string): string | undefined {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '{') {
      if (depth === 0) open = i;
      depth++;
    } else if (c === '}') {
      if (depth === 0)
        return `"}" at character ${i + 1} has no opening "{" (escape it as "\\}" for a literal one)`;
      depth--;
    }
  }
  if (depth > 0)
    return `"{" at character ${open + 1} is never closed (add "}" or escape it as "\\{")`;
  for (const expanded of expandBraces(pattern)) {
    for (const segment of expanded.split('/')) {
      for (let i = 0; i < segment.length; i++) {
        const c = segment[i];
        if (c === '\\') i++;
        else if (c === '[') {
          const close = segment.indexOf(']', i + 2);
          if (close === -1)
            return `"[" in "${segment}" is never closed (add "]" or escape it as "\\[")`;
          i = close;
        }
      }
    }
    try {
      compileGlob(expanded);
    } catch (error) {
      return `it does not compile: ${(error as Error).message}`;
    }
  }
  return undefined;
}
