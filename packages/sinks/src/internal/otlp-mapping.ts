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
 *   through `attributeNames`; metadata wins over a label of the same name.
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
  readonly sharedKeys: ReadonlySet<string>;
  readonly special: Special;
  /** Label entries used for severity or trace context. */
  readonly consumed: readonly OtlpKeyValue[];
}

const EMPTY_SET: OtlpAttributeSet = Object.freeze({ pairs: [] });
const MAX_INTERNED_RESOURCES = 10_000;

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
    const pairs: OtlpKeyValue[] = [];
    const sharedKeys = new Set<string>();
    const consumed: OtlpKeyValue[] = [];
    for (const key of Object.keys(labels)) {
      const value = labels[key] as string;
      if (consumedKeys.has(key)) {
        consumed.push([key, value]);
        continue;
      }
      if (inResource.has(key)) continue;
      let name = rename(key);
      if (sharedKeys.has(name)) name = key;
      pairs.push([name, value]);
      sharedKeys.add(name);
    }
    const part: LabelPart = {
      resource,
      resourceKey,
      shared: pairs.length === 0 ? EMPTY_SET : Object.freeze({ pairs }),
      sharedKeys,
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
        const mdPairs: OtlpKeyValue[] = [];
        for (const key of keys)
          if (!mdConsumed.has(key))
            mdPairs.push([rename(key), md[key] as string]);
        // Label entries whose meaning the metadata overrides stay attributes.
        const restored: OtlpKeyValue[] = [];
        const mdTrace =
          mdSpecial.traceId !== undefined || mdSpecial.spanId !== undefined;
        for (const [key, value] of part.consumed) {
          const isSeverity = part.special.severity?.key === key;
          if (
            (isSeverity && mdSpecial.severity !== undefined) ||
            (!isSeverity && mdTrace)
          )
            restored.push([rename(key), value]);
        }
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
        own = [...restored, ...mdPairs];
        if (own.some(([k]) => part.sharedKeys.has(k))) {
          // Metadata wins over a label attribute of the same name.
          const override = new Set(own.map(([k]) => k));
          own = [
            ...part.shared.pairs.filter(([k]) => !override.has(k)),
            ...own,
          ];
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
