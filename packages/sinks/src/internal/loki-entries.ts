import { LcError } from '@lc/core';
import type { LogRecord, RecordFailure } from '@lc/core';
import { groupStreams } from './loki-body.js';
import type { WorkEntry } from './loki-body.js';
import {
  createLabelPreparer,
  sanitizeLabelName,
  selectorOf,
} from './loki-labels.js';
import type { ExcessLabelAction } from './loki-labels.js';
import { entryWireBytes } from './loki-proto.js';
import type { SinkMetrics } from './sink-metrics.js';

/** The Loki sink's resolved label and size options. */
export interface LokiEntriesOptions {
  readonly sink: string;
  readonly staticLabels: Readonly<Record<string, string>>;
  readonly labelAllowList: readonly string[] | undefined;
  readonly keepLabelsOnOverflow: readonly string[] | undefined;
  readonly tenantLabel: string | undefined;
  readonly tenant: string | undefined;
  readonly fallbackLabels: Readonly<Record<string, string>>;
  readonly excessLabels: ExcessLabelAction;
  readonly maxStreams: number;
  readonly maxRequestBytes: number;
  readonly metrics: SinkMetrics;
}

/** Records → Loki entries per tenant, and entries → requests. */
export interface LokiEntries {
  /** Entries per tenant; records too big for one request fail into `failures`. */
  toEntries(
    batch: readonly LogRecord[],
    failures: RecordFailure[],
  ): Map<string, WorkEntry[]>;
  /** Split into requests of at most `maxRequestBytes`, streams kept sorted. */
  chunk(entries: readonly WorkEntry[]): WorkEntry[][];
}

/**
 * Label handling of the Loki sink: static labels, the allow-list, the
 * tenant label, the `maxStreams` cardinality guard and where excess labels
 * go (structured metadata or nowhere).
 */
export function createLokiEntries(options: LokiEntriesOptions): LokiEntries {
  const { sink: name, maxStreams, maxRequestBytes, metrics } = options;
  const excessAction = options.excessLabels;
  const allowList =
    options.labelAllowList === undefined
      ? undefined
      : new Set(options.labelAllowList.map(sanitizeLabelName));
  const keepOnOverflow = new Set(
    (
      options.keepLabelsOnOverflow ?? [
        ...Object.keys(options.staticLabels),
        ...(allowList ?? []),
      ]
    ).map(sanitizeLabelName),
  );
  const prepare = createLabelPreparer({
    staticLabels: options.staticLabels,
    allowList,
    tenantLabel: options.tenantLabel,
    fallbackLabels: options.fallbackLabels,
  });

  const toEntries = (
    batch: readonly LogRecord[],
    failures: RecordFailure[],
  ): Map<string, WorkEntry[]> => {
    const byTenant = new Map<string, WorkEntry[]>();
    const streamsPerTenant = new Map<string, Set<string>>();
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i] as LogRecord;
      const p = prepare(record.labels);
      const tenant = p.tenant ?? options.tenant ?? '';
      let pairs = p.pairs;
      let labels = p.key;
      const moved: Array<readonly [string, string]> = [...p.excess];
      let streams = streamsPerTenant.get(tenant);
      if (streams === undefined)
        streamsPerTenant.set(tenant, (streams = new Set()));
      if (!streams.has(labels) && streams.size >= maxStreams) {
        const kept = pairs.filter(([k]) => keepOnOverflow.has(k));
        moved.push(...pairs.filter(([k]) => !keepOnOverflow.has(k)));
        metrics.labels(excessAction, 'max_streams', pairs.length - kept.length);
        pairs = kept.length > 0 ? kept : Object.entries(options.fallbackLabels);
        labels = selectorOf(pairs);
      }
      streams.add(labels);
      metrics.labels(excessAction, 'allow_list', p.excess.length);
      let metadata: Array<readonly [string, string]> | undefined;
      if (record.metadata !== undefined) {
        metadata = Object.entries(record.metadata).map(
          ([k, v]) => [sanitizeLabelName(k), v] as const,
        );
      }
      if (excessAction === 'metadata' && moved.length > 0)
        metadata = [...(metadata ?? []), ...moved];
      const entry: WorkEntry = {
        timestampMs: record.timestampMs,
        timestampNanos: record.timestampNanos,
        line: record.line,
        metadata,
        index: i,
        labels,
        labelCount: pairs.length,
        order: i,
      };
      if (
        entryWireBytes(entry) + Buffer.byteLength(labels) + 16 >
        maxRequestBytes
      ) {
        failures.push({
          index: i,
          retryable: false,
          error: new LcError({
            code: 'LC_ERR_RECORD_TOO_LARGE',
            message: `sink "${name}": record ${i} needs more than maxRequestBytes (${maxRequestBytes}) on the wire`,
            details: { sink: name, maxRequestBytes },
          }),
        });
        continue;
      }
      const list = byTenant.get(tenant);
      if (list === undefined) byTenant.set(tenant, [entry]);
      else list.push(entry);
    }
    return byTenant;
  };

  const chunk = (entries: readonly WorkEntry[]): WorkEntry[][] => {
    const chunks: WorkEntry[][] = [];
    let current: WorkEntry[] = [];
    let bytes = 0;
    for (const stream of groupStreams(entries)) {
      const header = Buffer.byteLength(stream.labels) + 16;
      bytes += header;
      for (const e of stream.entries) {
        const size = entryWireBytes(e);
        if (bytes + size > maxRequestBytes && current.length > 0) {
          chunks.push(current);
          current = [];
          bytes = header;
        }
        current.push(e as WorkEntry);
        bytes += size;
      }
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  };

  return { toEntries, chunk };
}
