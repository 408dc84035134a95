import { posix } from 'node:path';

/** A compiled include/exclude glob. */
export interface CompiledGlob {
  /** The pattern as given (after brace expansion). */
  readonly pattern: string;
  /** Longest leading directory without glob characters. */
  readonly base: string;
  /**
   * Deepest directory level below `base` a match can sit at; `Infinity`
   * when the pattern contains `**`.
   */
  readonly maxDepth: number;
  /** Tests an absolute, `/`-separated path. */
  matches(path: string): boolean;
  /** Could some path below directory `dir` match? Prunes the walk. */
  mayContain(dir: string): boolean;
}

const GLOB_CHARS = /[*?[\]{}]/;

/** Expand `{a,b}` alternatives (nested allowed) into plain globs. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') {
      if (depth === 0) open = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        const inner = pattern.slice(open + 1, i);
        const parts = splitTopLevel(inner);
        if (parts.length < 2) continue;
        const head = pattern.slice(0, open);
        const tail = pattern.slice(i + 1);
        const out: string[] = [];
        for (const part of parts) {
          for (const expanded of expandBraces(head + part + tail)) {
            out.push(expanded);
          }
        }
        return out;
      }
    }
  }
  return [pattern];
}

function splitTopLevel(inner: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(inner.slice(start));
  return parts;
}

function escapeRegex(text: string): string {
  return text.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
}

function segmentToRegex(segment: string): string {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '\\' && i + 1 < segment.length) {
      out += escapeRegex(segment[++i] as string);
    } else if (c === '*') {
      while (segment[i + 1] === '*') i++;
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else {
      out += escapeRegex(c);
    }
  }
  return out;
}

/** Compile one glob without braces (see {@link expandBraces}). */
function compileOne(pattern: string): CompiledGlob {
  const normalized = posix.normalize(pattern);
  const segments = normalized.split('/');
  const baseSegments: string[] = [];
  let i = 0;
  for (; i < segments.length - 1; i++) {
    const s = segments[i] as string;
    if (GLOB_CHARS.test(s)) break;
    baseSegments.push(s);
  }
  const base = baseSegments.join('/') || '/';
  const rest = segments.slice(i);
  let source = '';
  let hasGlobstar = false;
  for (let k = 0; k < rest.length; k++) {
    const s = rest[k] as string;
    const last = k === rest.length - 1;
    if (s === '**') {
      hasGlobstar = true;
      source += last ? '.*' : '(?:[^/]+/)*';
    } else {
      source += segmentToRegex(s) + (last ? '' : '/');
    }
  }
  const prefix = base === '/' ? '/' : `${escapeRegex(base)}/`;
  const regex = new RegExp(`^${prefix}${source}$`);
  // Directory prefixes a match can pass through: each partial chain of segments.
  const dirRegexes: RegExp[] = [];
  let partial = '';
  for (let k = 0; k < rest.length - 1; k++) {
    const s = rest[k] as string;
    if (s === '**') break;
    partial += (k === 0 ? '' : '/') + segmentToRegex(s);
    dirRegexes.push(new RegExp(`^${prefix}${partial}$`));
  }
  const maxDepth = hasGlobstar ? Infinity : rest.length - 1;
  return {
    pattern: normalized,
    base,
    maxDepth,
    matches: (path) => regex.test(path),
    mayContain(dir) {
      if (dir === base) return true;
      if (!dir.startsWith(base === '/' ? '/' : `${base}/`)) return false;
      const depth = relativeDepth(base, dir);
      if (hasGlobstar && depth > dirRegexes.length) return true;
      const check = dirRegexes[depth - 1];
      return check !== undefined && check.test(dir);
    },
  };
}

function relativeDepth(base: string, dir: string): number {
  const rel = base === '/' ? dir.slice(1) : dir.slice(base.length + 1);
  return rel === '' ? 0 : rel.split('/').length;
}

/** Compile a glob (braces expanded) into one or more matchers. */
export function compileGlob(pattern: string): CompiledGlob[] {
  return expandBraces(pattern).map(compileOne);
}

/** True when any glob matches `path`. */
export function matchesAny(
  globs: readonly CompiledGlob[],
  path: string,
): boolean {
  for (const g of globs) if (g.matches(path)) return true;
  return false;
}
