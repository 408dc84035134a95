import type { LineRule } from './line-rule.js';

const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;

/**
 * A JSON object spanning lines: a line whose first non-blank character is
 * `{` opens it; braces and brackets outside strings are counted (escapes
 * understood) until they balance, and the line that balances them ends
 * the record. An object complete on its line, and every line outside an
 * object, is a record of its own at once (no wait for a next line).
 * Strings are not carried across lines (JSON strings hold no raw newline).
 */
export function jsonRule(): LineRule {
  let depth = 0;
  /** The nesting after `text`, from `start`. */
  const scan = (text: string, start: number): number => {
    let d = start;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) d++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        d--;
        // The object closed: what follows on the line does not reopen it.
        if (d <= 0) return 0;
      }
    }
    return d;
  };
  return {
    classify(text) {
      if (depth > 0) {
        depth = scan(text, depth);
        return depth > 0 ? 'continue' : 'end';
      }
      const first = text.trimStart().charCodeAt(0);
      if (first !== OPEN_BRACE) return 'single';
      depth = scan(text, 0);
      return depth > 0 ? 'start' : 'single';
    },
    reset() {
      depth = 0;
    },
  };
}
