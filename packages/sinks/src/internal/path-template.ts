import {
  basename,
  extname,
  isAbsolute,
  relative,
  resolve,
  sep,
} from 'node:path';
import { LcError } from '@lc/core';
import type { LogRecord } from '@lc/core';

/** Placeholders a file sink path template may use. */
export const TEMPLATE_VARIABLES = [
  'source',
  'source_kind',
  'container_name',
  'container_id',
  'file_name',
  'date',
  'hour',
] as const;

const PLACEHOLDER = /\{([a-z_]+)(?::([a-zA-Z0-9_.-]+))?\}/g;
const PLACEHOLDER_TEST = /\{([a-z_]+)(?::([a-zA-Z0-9_.-]+))?\}/;
const MAX_SEGMENT = 128;

/**
 * Make a substituted value safe as part of one path segment: separators,
 * control and shell-hostile characters become `_`, leading dots become `_`
 * (so `..` and hidden names cannot appear), length is capped.
 */
export function sanitizePathValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  let out = value.replace(/[\u0000-\u001f\u007f/\\:*?"<>| ]/g, '_');
  out = out.replace(/^\.+/, (dots) => '_'.repeat(dots.length));
  if (out === '') out = 'unknown';
  return out.slice(0, MAX_SEGMENT);
}

function fileNameOf(record: LogRecord): string | undefined {
  const path =
    record.labels.filename ?? record.labels.file_path ?? record.labels.path;
  if (path === undefined) return undefined;
  const base = basename(path);
  return base.slice(0, base.length - extname(base).length) || base;
}

function variable(
  name: string,
  arg: string | undefined,
  record: LogRecord,
): string | undefined {
  switch (name) {
    case 'source':
      return record.source.id;
    case 'source_kind':
      return record.source.kind;
    case 'container_name':
      return record.labels.container_name ?? record.labels.container;
    case 'container_id': {
      const id =
        record.labels.container_id ??
        (record.source.kind === 'container' ? record.source.id : undefined);
      return id?.slice(0, 12);
    }
    case 'file_name':
      return fileNameOf(record);
    case 'date':
      return new Date(record.timestampMs).toISOString().slice(0, 10);
    case 'hour':
      return new Date(record.timestampMs).toISOString().slice(11, 13);
    case 'label':
      return arg === undefined ? undefined : record.labels[arg];
    default:
      return undefined;
  }
}

/**
 * Compile a path template (relative to `directory`) into a function from
 * record to absolute path. Every substituted value is sanitised; the
 * template itself may contain `/` but no `..` segment and may not be
 * absolute, and each result is checked to stay inside `directory`.
 */
export function compilePathTemplate(
  directory: string,
  template: string,
): (record: LogRecord) => string {
  const root = resolve(directory);
  if (
    isAbsolute(template) ||
    template.split(/[\\/]/).some((s) => s === '..' || s === '.') ||
    template.trim() === ''
  ) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `createFileSink: pathTemplate must be a relative path without "." or ".." segments, got ${JSON.stringify(template)}`,
    });
  }
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1] as string;
    if (
      name !== 'label' &&
      !(TEMPLATE_VARIABLES as readonly string[]).includes(name)
    ) {
      throw new LcError({
        code: 'LC_ERR_INVALID_OPTION',
        message: `createFileSink: pathTemplate uses unknown placeholder {${name}}; known: ${TEMPLATE_VARIABLES.map((v) => `{${v}}`).join(', ')}, {label:NAME}`,
      });
    }
  }
  const check = (rel: string): string => {
    const full = resolve(root, rel);
    const inside = relative(root, full);
    if (
      inside === '' ||
      inside.startsWith('..') ||
      isAbsolute(inside) ||
      !full.startsWith(root + sep)
    ) {
      throw new LcError({
        code: 'LC_ERR_INVALID_INPUT',
        message: `file sink path ${JSON.stringify(rel)} escapes ${root}`,
      });
    }
    return full;
  };
  if (!PLACEHOLDER_TEST.test(template)) {
    const constant = check(template);
    return () => constant;
  }
  // Resolved paths are few (one per source and hour); cache the checks.
  const resolved = new Map<string, string>();
  const render = (record: LogRecord): string => {
    const rel = template.replace(
      PLACEHOLDER,
      (_, name: string, arg: string | undefined) =>
        sanitizePathValue(variable(name, arg, record) ?? `unknown_${name}`),
    );
    let full = resolved.get(rel);
    if (full === undefined) {
      full = check(rel);
      if (resolved.size >= 10_000) resolved.clear();
      resolved.set(rel, full);
    }
    return full;
  };
  // The path depends only on the labels, the source and (for {date} and
  // {hour}) the hour of the record. Labels objects are shared, immutable
  // copy-on-write maps (one per source and stream), so the rendered path is
  // remembered per labels object: one regex pass per source and hour, not
  // per record.
  const usesTime = /\{(date|hour)\}/.test(template);
  const memo = new WeakMap<object, PathMemo>();
  return (record) => {
    const bucket = usesTime ? Math.floor(record.timestampMs / HOUR_MS) : 0;
    const hit = memo.get(record.labels);
    if (
      hit !== undefined &&
      hit.bucket === bucket &&
      hit.sourceId === record.source.id &&
      hit.sourceKind === record.source.kind
    ) {
      return hit.path;
    }
    const path = render(record);
    memo.set(record.labels, {
      bucket,
      sourceId: record.source.id,
      sourceKind: record.source.kind,
      path,
    });
    return path;
  };
}

const HOUR_MS = 3_600_000;

interface PathMemo {
  readonly bucket: number;
  readonly sourceId: string;
  readonly sourceKind: string;
  readonly path: string;
}
