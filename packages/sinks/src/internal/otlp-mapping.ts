/**
 * The documented rule that turns an lc record into an OTLP log record
 * (packages/sinks/README.md, "OTLP: how records are mapped"):
 *
 * - Labels listed in `resourceLabels` form the resource, renamed to their
 *   attribute names; the first label mapped to a name wins. Static
 *   `resourceAttributes` fill names no label provided. Records are grouped
 *   into one ResourceLogs per distinct resource.
 * - The first of `severityKeys` present (metadata first, then labels) sets
 *   SeverityText (verbatim) and SeverityNumber (see otlp-severity.ts).
 * - The first valid `traceparentKeys` value, else the first valid
 *   `traceIdKeys` / `spanIdKeys` values, set trace_id, span_id and flags.
 *   Invalid ids are not used and stay attributes.
 * - Every other label and metadata entry is a log record attribute, named
 *   through `attributeNames`. Names stay unique: metadata entries name
 *   first; an entry whose name is taken keeps its own key, else becomes
 *   `label.<key>` / `metadata.<key>`.
 *
 * Work that depends only on a label set is done once per label object
 * (label objects are frozen and shared) and cached.
 */
import type { Labels, LogRecord } from '@lc/core';
import type {
  OtlpAttributeSet,
  OtlpKeyValue,
  OtlpLogRecord,
} from './otlp-proto.js';
import { severityNumberOf } from './otlp-severity.js';
import {
  parseSpanId,
  parseTraceId,
  parseTraceparent,
} from './otlp-trace-context.js';

/** Resolved mapping options (see `OtlpSinkOptions`). */
export interface OtlpMappingOptions {
  /** Label name → resource attribute name, in precedence order. */
  readonly resourceLabels: ReadonlyArray<readonly [string, string]>;
  /** Resource attributes for names no label provides. */
  readonly resourceAttributes: readonly OtlpKeyValue[];
  /** Label or metadata name → log attribute name. */
  readonly attributeNames: ReadonlyMap<string, string>;
  readonly severityKeys: readonly string[];
  readonly traceIdKeys: readonly string[];
  readonly spanIdKeys: readonly string[];
  readonly traceparentKeys: readonly string[];
}

/** A record mapped for the wire, with the resource it belongs to. */
export interface MappedRecord {
  readonly record: OtlpLogRecord;
  readonly resource: OtlpAttributeSet;
  /** Canonical text of the resource, for grouping. */
  readonly resourceKey: string;
}

interface Special {
  severity?: { key: string; text: string };
  traceId?: Buffer;
  spanId?: Buffer;
  flags?: number;
  /** Keys whose values were used for severity or trace context. */
  consumed: string[];
}

interface LabelPart {
  readonly resource: OtlpAttributeSet;
  readonly resourceKey: string;
  readonly shared: OtlpAttributeSet;
  /** The label entries behind `shared`, by original key. */
  readonly entries: readonly OtlpKeyValue[];
  readonly special: Special;
  /** Label entries used for severity or trace context. */
  readonly consumed: readonly OtlpKeyValue[];
}

const EMPTY_SET: OtlpAttributeSet = Object.freeze({ pairs: [] });
const MAX_INTERNED_RESOURCES = 10_000;

/**
 * Name entries so that no two share one: each takes its renamed name,
 * else its own key, else `<origin>.<key>` (then `#2`, `#3`, ...).
 */
function nameEntries(
  entries: readonly OtlpKeyValue[],
  origin: 'label' | 'metadata',
  rename: (key: string) => string,
  taken: Set<string>,
  out: OtlpKeyValue[],
): void {
  for (const [key, value] of entries) {
    let name = rename(key);
    if (taken.has(name)) name = key;
    if (taken.has(name)) {
      const base = `${origin}.${key}`;
      name = base;
      for (let n = 2; taken.has(name); n++) name = `${base}#${n}`;
    }
    taken.add(name);
    out.push([name, value]);
  }
}

/** Build the record mapper of one sink. */
export function createOtlpMapper(
  options: OtlpMappingOptions,
): (record: LogRecord) => MappedRecord {
  const parts = new WeakMap<Labels, LabelPart>();
  // One set object per distinct resource, so its bytes are cached once.
  const resources = new Map<string, OtlpAttributeSet>();
  const rename = (key: string): string =>
    options.attributeNames.get(key) ?? key;

  const findSpecial = (get: (key: string) => string | undefined): Special => {
    const special: Special = { consumed: [] };
    for (const key of options.severityKeys) {
      const text = get(key);
      if (text === undefined || text === '') continue;
      special.severity = { key, text };
      special.consumed.push(key);
      break;
    }
    for (const key of options.traceparentKeys) {
      const value = get(key);
      const ctx = value === undefined ? undefined : parseTraceparent(value);
      if (ctx === undefined) continue;
      special.traceId = ctx.traceId;
      special.spanId = ctx.spanId;
      special.flags = ctx.flags;
      special.consumed.push(key);
      return special;
    }
    for (const key of options.traceIdKeys) {
      const value = get(key);
      const id = value === undefined ? undefined : parseTraceId(value);
      if (id === undefined) continue;
      special.traceId = id;
      special.consumed.push(key);
      break;
    }
    for (const key of options.spanIdKeys) {
      const value = get(key);
      const id = value === undefined ? undefined : parseSpanId(value);
      if (id === undefined) continue;
      special.spanId = id;
      special.consumed.push(key);
      break;
    }
    return special;
  };

  const internResource = (
    pairs: OtlpKeyValue[],
  ): [OtlpAttributeSet, string] => {
    const key = [...pairs]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([k, v]) => `${k}\u0000${v}`)
      .join('\u0001');
    let set = resources.get(key);
    if (set === undefined) {
      if (resources.size >= MAX_INTERNED_RESOURCES) resources.clear();
      set = Object.freeze({ pairs });
      resources.set(key, set);
    }
    return [set, key];
  };

  const labelPart = (labels: Labels): LabelPart => {
    const hit = parts.get(labels);
    if (hit !== undefined) return hit;
    const special = findSpecial((k) =>
      Object.hasOwn(labels, k) ? labels[k] : undefined,
    );
    const consumedKeys = new Set(special.consumed);
    const inResource = new Set<string>();
    const resourcePairs: OtlpKeyValue[] = [];
    const taken = new Set<string>();
    for (const [label, name] of options.resourceLabels) {
      if (taken.has(name) || consumedKeys.has(label)) continue;
      if (!Object.hasOwn(labels, label)) continue;
      resourcePairs.push([name, labels[label] as string]);
      taken.add(name);
      inResource.add(label);
    }
    for (const [name, value] of options.resourceAttributes)
      if (!taken.has(name)) resourcePairs.push([name, value]);
    const [resource, resourceKey] = internResource(resourcePairs);
    const entries: OtlpKeyValue[] = [];
    const consumed: OtlpKeyValue[] = [];
    for (const key of Object.keys(labels)) {
      const value = labels[key] as string;
      if (consumedKeys.has(key)) consumed.push([key, value]);
      else if (!inResource.has(key)) entries.push([key, value]);
    }
    const pairs: OtlpKeyValue[] = [];
    nameEntries(entries, 'label', rename, new Set(), pairs);
    const part: LabelPart = {
      resource,
      resourceKey,
      shared: pairs.length === 0 ? EMPTY_SET : Object.freeze({ pairs }),
      entries,
      special,
      consumed,
    };
    parts.set(labels, part);
    return part;
  };

  return (record) => {
    const part = labelPart(record.labels);
    const md = record.metadata;
    let special = part.special;
    let shared = part.shared;
    let own: OtlpKeyValue[] | undefined;
    if (md !== undefined) {
      const keys = Object.keys(md);
      if (keys.length > 0) {
        const mdSpecial = findSpecial((k) =>
          Object.hasOwn(md, k) ? md[k] : undefined,
        );
        const mdConsumed = new Set(mdSpecial.consumed);
        const mdEntries: OtlpKeyValue[] = [];
        for (const key of keys)
          if (!mdConsumed.has(key)) mdEntries.push([key, md[key] as string]);
        // Label entries whose meaning the metadata overrides stay attributes.
        const mdTrace =
          mdSpecial.traceId !== undefined || mdSpecial.spanId !== undefined;
        const restored = part.consumed.filter(([key]) =>
          part.special.severity?.key === key
            ? mdSpecial.severity !== undefined
            : mdTrace,
        );
        special = {
          severity: mdSpecial.severity ?? part.special.severity,
          ...(mdTrace
            ? {
                traceId: mdSpecial.traceId,
                spanId: mdSpecial.spanId,
                flags: mdSpecial.flags,
              }
            : {
                traceId: part.special.traceId,
                spanId: part.special.spanId,
                flags: part.special.flags,
              }),
          consumed: [],
        };
        // Metadata names first; labels keep theirs unless one is taken.
        own = [];
        const taken = new Set<string>();
        nameEntries(mdEntries, 'metadata', rename, taken, own);
        if (
          restored.length > 0 ||
          part.shared.pairs.some(([name]) => taken.has(name))
        ) {
          const labelPairs: OtlpKeyValue[] = [];
          nameEntries(
            [...part.entries, ...restored],
            'label',
            rename,
            taken,
            labelPairs,
          );
          own = [...labelPairs, ...own];
          shared = EMPTY_SET;
        }
        if (own.length === 0) own = undefined;
      }
    }
    const text = special.severity?.text;
    return {
      resource: part.resource,
      resourceKey: part.resourceKey,
      record: {
        timestampMs: record.timestampMs,
        timestampNanos: record.timestampNanos,
        line: record.line,
        lineBytes: Buffer.byteLength(record.line, 'utf8'),
        severityNumber: text === undefined ? 0 : severityNumberOf(text),
        severityText: text,
        shared,
        own,
        traceId: special.traceId,
        spanId: special.spanId,
        flags: special.flags ?? 0,
      },
    };
  };
}
