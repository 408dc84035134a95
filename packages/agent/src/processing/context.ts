import type { Labels } from '@lc/core';
import { setOwnKey, withLabels } from '@lc/core';

/**
 * Mutable working state of one record while it passes through a pipeline.
 * Steps change it in place; the processor builds a new record only when
 * something changed, so an untouched record is passed on as is.
 */
export interface StepContext {
  line: string;
  labels: Labels;
  metadata: Readonly<Record<string, string>> | undefined;
  timestampMs: number;
  timestampNanos: number;
  /** Fields parsed by json/logfmt/regex steps, for later steps. */
  fields: Record<string, unknown> | undefined;
  /** Set by steps that changed line/labels/metadata/time. */
  changed: boolean;
}

/** A compiled step: returns false to drop the record. */
export type CompiledStep = (ctx: StepContext) => boolean;

const MAX_CACHED_VARIANTS = 256;
const variants = new WeakMap<Labels, Map<string, Labels>>();

/**
 * Set labels copy-on-write. Results are memoised per base label object
 * (bounded), so records of one source that end up with the same labels
 * share one frozen object: no allocation per record, and downstream
 * grouping by label identity stays cheap.
 */
export function patchLabels(
  ctx: StepContext,
  patch: Readonly<Record<string, string | undefined>>,
): void {
  const base = ctx.labels;
  let key = '';
  for (const k in patch) key += `${k}\u0000${patch[k] ?? '\u0001'}\u0000`;
  let cache = variants.get(base);
  let next = cache?.get(key);
  if (next === undefined) {
    next = withLabels(base, patch);
    if (cache === undefined) {
      cache = new Map();
      variants.set(base, cache);
    }
    if (cache.size < MAX_CACHED_VARIANTS) cache.set(key, next);
  }
  if (next !== base) {
    ctx.labels = next;
    ctx.changed = true;
  }
}

/** Set metadata entries copy-on-write. */
export function patchMetadata(
  ctx: StepContext,
  patch: Readonly<Record<string, string>>,
): void {
  let next: Record<string, string> | undefined;
  for (const key of Object.keys(patch)) {
    const value = patch[key] as string;
    if (
      ctx.metadata !== undefined &&
      Object.hasOwn(ctx.metadata, key) &&
      ctx.metadata[key] === value
    )
      continue;
    next ??= { ...ctx.metadata };
    setOwnKey(next, key, value);
  }
  if (next !== undefined) {
    ctx.metadata = next;
    ctx.changed = true;
  }
}

/** String form of a parsed field value for labels and metadata. */
export function fieldText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}

/** Promote the named fields to labels and metadata. */
export function promoteFields(
  ctx: StepContext,
  fields: Record<string, unknown>,
  labels: readonly string[],
  metadata: readonly string[],
): void {
  if (labels.length > 0) {
    const patch: Record<string, string> = {};
    let any = false;
    for (const name of labels) {
      const text = fieldText(fields[name]);
      if (text !== undefined) {
        setOwnKey(patch, name, text);
        any = true;
      }
    }
    if (any) patchLabels(ctx, patch);
  }
  if (metadata.length > 0) {
    const patch: Record<string, string> = {};
    let any = false;
    for (const name of metadata) {
      const text = fieldText(fields[name]);
      if (text !== undefined) {
        setOwnKey(patch, name, text);
        any = true;
      }
    }
    if (any) patchMetadata(ctx, patch);
  }
}

/** Merge parsed fields into the context. */
export function addFields(
  ctx: StepContext,
  fields: Record<string, unknown>,
): void {
  if (ctx.fields === undefined) ctx.fields = fields;
  else Object.assign(ctx.fields, fields);
}
