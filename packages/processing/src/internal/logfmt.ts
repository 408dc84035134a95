import { setOwnKey } from '@lc/core';

/**
 * Parse logfmt (`key=value key2="quoted value" flag`) into a map. Keys
 * without `=` get the value "true".
 */
export function parseLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && line.charCodeAt(i) <= 32) i++;
    const keyStart = i;
    while (i < n && line.charCodeAt(i) > 32 && line[i] !== '=') i++;
    const key = line.slice(keyStart, i);
    if (key === '') {
      i++;
      continue;
    }
    if (line[i] !== '=') {
      setOwnKey(out, key, 'true');
      continue;
    }
    i++;
    if (line[i] === '"') {
      i++;
      let value = '';
      let start = i;
      while (i < n && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < n) {
          value += line.slice(start, i);
          const next = line[i + 1] as string;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          i += 2;
          start = i;
          continue;
        }
        i++;
      }
      value += line.slice(start, i);
      setOwnKey(out, key, value);
      i++;
    } else {
      const start = i;
      while (i < n && line.charCodeAt(i) > 32) i++;
      setOwnKey(out, key, line.slice(start, i));
    }
  }
  return out;
}
