import { setOwnKey } from '@lc/core';
import type { StepConfig } from '../config/processing-schema.js';
import type { CompiledStep } from './context.js';
import { addFields, fieldText, promoteFields } from './context.js';

type Of<T extends StepConfig['type']> = Extract<StepConfig, { type: T }>;

/**
 * json_parse: parse the line as a JSON object into fields. Lines that are
 * not a JSON object pass through unchanged (plain text in a JSON stream is
 * common, and dropping it would lose data).
 */
export function compileJsonParse(config: Of<'json_parse'>): CompiledStep {
  const { labels, metadata, message_field: messageField } = config;
  return (ctx) => {
    const line = ctx.line;
    let i = 0;
    while (
      i < line.length &&
      (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)
    )
      i++;
    if (line.charCodeAt(i) !== 123 /* { */) return true;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return true;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return true;
    const fields = parsed as Record<string, unknown>;
    addFields(ctx, fields);
    promoteFields(ctx, fields, labels, metadata);
    if (messageField !== undefined) {
      const message = fieldText(fields[messageField]);
      if (message !== undefined && message !== ctx.line) {
        ctx.line = message;
        ctx.changed = true;
      }
    }
    return true;
  };
}

/** regex_extract: named groups become fields; promoted as configured. */
export function compileRegexExtract(config: Of<'regex_extract'>): CompiledStep {
  const re = new RegExp(config.pattern);
  const groupNames = [
    ...config.pattern.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g),
  ].map((m) => m[1] as string);
  const labels = config.labels ?? groupNames;
  const { metadata } = config;
  return (ctx) => {
    const m = re.exec(ctx.line);
    if (m?.groups === undefined) return true;
    const fields: Record<string, unknown> = {};
    for (const name of groupNames) {
      const value = m.groups[name];
      if (value !== undefined) fields[name] = value;
    }
    addFields(ctx, fields);
    promoteFields(ctx, fields, labels, metadata);
    return true;
  };
}

/**
 * Parse logfmt (`key=value key2="quoted value" flag`) into a map. Keys
 * without `=` get the value "true". Exported for tests and benchmarks.
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

/** logfmt_parse: key=value pairs become fields. */
export function compileLogfmtParse(config: Of<'logfmt_parse'>): CompiledStep {
  const { labels, metadata } = config;
  return (ctx) => {
    if (!ctx.line.includes('=')) return true;
    const fields = parseLogfmt(ctx.line);
    addFields(ctx, fields);
    promoteFields(ctx, fields, labels, metadata);
    return true;
  };
}
