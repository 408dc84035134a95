import type { Labels, LogRecord } from '@lc/core';
import { setOwnKey, withLabels } from '@lc/core';
import type { StepContext } from '../step-context.js';

const MAX_CACHED_VARIANTS = 256;
const variants = new WeakMap<Labels, Map<string, Labels>>();

/**
 * The mutable state of one record in a pipeline: what {@link StepContext}
 * exposes, plus `changed` for the processor. Built-in steps use it
 * directly; custom steps see it through the interface.
 */
export class WorkingRecord implements StepContext {
  line: string;
  labels: Labels;
  metadata: Readonly<Record<string, string>> | undefined;
  timestampMs: number;
  timestampNanos: number;
  fields: Readonly<Record<string, unknown>> | undefined = undefined;
  /** Set when line, labels, metadata or time changed. */
  changed = false;

  readonly record: LogRecord;

  constructor(record: LogRecord) {
    this.record = record;
    this.line = record.line;
    this.labels = record.labels;
    this.metadata = record.metadata;
    this.timestampMs = record.timestampMs;
    this.timestampNanos = record.timestampNanos;
  }

  setLine(line: string): void {
    if (line === this.line) return;
    this.line = line;
    this.changed = true;
  }

  /**
   * Copy-on-write, memoised per base label object (bounded): records of one
   * source that end up with the same labels share one frozen object, so
   * there is no allocation per record and grouping by label identity
   * downstream stays cheap.
   */
  setLabels(patch: Readonly<Record<string, string | undefined>>): void {
    const base = this.labels;
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
      this.labels = next;
      this.changed = true;
    }
  }

  setMetadata(patch: Readonly<Record<string, string>>): void {
    let next: Record<string, string> | undefined;
    for (const key of Object.keys(patch)) {
      const value = patch[key] as string;
      if (
        this.metadata !== undefined &&
        Object.hasOwn(this.metadata, key) &&
        this.metadata[key] === value
      )
        continue;
      next ??= { ...this.metadata };
      setOwnKey(next, key, value);
    }
    if (next !== undefined) {
      this.metadata = next;
      this.changed = true;
    }
  }

  setTimestamp(timestampMs: number, timestampNanos = 0): void {
    if (
      timestampMs === this.timestampMs &&
      timestampNanos === this.timestampNanos
    )
      return;
    this.timestampMs = timestampMs;
    this.timestampNanos = timestampNanos;
    this.changed = true;
  }

  /**
   * The first parse's object is kept as is (it is the step's own); later
   * ones are merged into a copy, so a step that fails after adding fields
   * can be undone by restoring the reference.
   */
  addFields(fields: Readonly<Record<string, unknown>>): void {
    this.fields =
      this.fields === undefined ? fields : { ...this.fields, ...fields };
  }
}

/** String form of a parsed field value for labels, metadata and matching. */
export function fieldText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}

function pick(
  fields: Readonly<Record<string, unknown>>,
  names: readonly string[],
): Record<string, string> | undefined {
  let patch: Record<string, string> | undefined;
  for (const name of names) {
    const text = fieldText(fields[name]);
    if (text !== undefined) setOwnKey((patch ??= {}), name, text);
  }
  return patch;
}

/** Promote the named fields to labels and metadata. */
export function promoteFields(
  ctx: StepContext,
  fields: Readonly<Record<string, unknown>>,
  labels: readonly string[],
  metadata: readonly string[],
): void {
  if (labels.length > 0) {
    const patch = pick(fields, labels);
    if (patch !== undefined) ctx.setLabels(patch);
  }
  if (metadata.length > 0) {
    const patch = pick(fields, metadata);
    if (patch !== undefined) ctx.setMetadata(patch);
  }
}
