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
import { strLen } from './proto-wire.js';
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

  // Records of one source share one labels object: what depends only on
  // the labels (tenant, pairs, selector, its byte length) is looked up once
  // per run of records with the same labels, not once per record.
  const NO_PAIRS: ReadonlyArray<readonly [string, string]> = [];
  const toEntries = (
    batch: readonly LogRecord[],
    failures: RecordFailure[],
  ): Map<string, WorkEntry[]> => {
    const byTenant = new Map<string, WorkEntry[]>();
    const streamsPerTenant = new Map<string, Set<string>>();
    let lastLabels: LogRecord['labels'] | undefined;
    let tenant = '';
    let pairs: ReadonlyArray<readonly [string, string]> = NO_PAIRS;
    let labels = '';
    let moved: ReadonlyArray<readonly [string, string]> = NO_PAIRS;
    let labelBytes = 0;
    let excessCount = 0;
    let overflowCount = 0;
    let list: WorkEntry[] = [];
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i] as LogRecord;
      if (record.labels !== lastLabels) {
        lastLabels = record.labels;
        const p = prepare(record.labels);
        tenant = p.tenant ?? options.tenant ?? '';
        pairs = p.pairs;
        labels = p.key;
        moved = p.excess;
        excessCount = p.excess.length;
        overflowCount = 0;
        let streams = streamsPerTenant.get(tenant);
        if (streams === undefined)
          streamsPerTenant.set(tenant, (streams = new Set()));
        if (!streams.has(labels) && streams.size >= maxStreams) {
          const kept = pairs.filter(([k]) => keepOnOverflow.has(k));
          moved = [...moved, ...pairs.filter(([k]) => !keepOnOverflow.has(k))];
          overflowCount = pairs.length - kept.length;
          pairs =
            kept.length > 0 ? kept : Object.entries(options.fallbackLabels);
          labels = selectorOf(pairs);
        }
        streams.add(labels);
        labelBytes = Buffer.byteLength(labels);
        const l = byTenant.get(tenant);
        if (l === undefined) byTenant.set(tenant, (list = []));
        else list = l;
      }
      if (overflowCount > 0)
        metrics.labels(excessAction, 'max_streams', overflowCount);
      metrics.labels(excessAction, 'allow_list', excessCount);
      let metadata: Array<readonly [string, string]> | undefined;
      if (record.metadata !== undefined) {
        metadata = Object.entries(record.metadata).map(
          ([k, v]) => [sanitizeLabelName(k), v] as const,
        );
      }
      if (excessAction === 'metadata' && moved.length > 0)
        metadata = [...(metadata ?? []), ...moved];
      const line = record.line;
      const lineBytes = strLen(line);
      const entry: WorkEntry = {
        timestampMs: record.timestampMs,
        timestampNanos: record.timestampNanos,
        line,
        metadata,
        index: i,
        labels,
        labelCount: pairs.length,
        order: i,
        lineBytes,
        wireBytes: 0,
      };
      const wireBytes = entryWireBytes(entry);
      if (wireBytes + labelBytes + 16 > maxRequestBytes) {
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
      entry.wireBytes = wireBytes;
      list.push(entry);
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
        const size = (e as WorkEntry).wireBytes;
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
