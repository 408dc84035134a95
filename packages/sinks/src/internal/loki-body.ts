import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { formatTimestampNs } from '@lc/core';
import { createRequire } from 'node:module';
import type * as SnappyModule from 'snappy';
import { encodePushRequest } from './loki-proto.js';
import type { LokiEntry, LokiStream } from './loki-proto.js';

const gzipAsync = promisify(gzip);

/** An entry of one write, with everything the push needs. */
export interface WorkEntry extends LokiEntry {
  /** Stream selector. */
  readonly labels: string;
  readonly labelCount: number;
  /** Stable sort key within a stream (original order for equal timestamps). */
  readonly order: number;
  readonly lineBytes: number;
  /** `entryWireBytes` of this entry (set once computed). */
  wireBytes: number;
}

/** Wire encoding of a push. */
export type LokiEncoding = 'protobuf' | 'json';

/** A ready request body and its headers. */
export interface LokiBody {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/**
 * Group entries into streams (first-appearance order) and sort each
 * stream by timestamp; equal timestamps keep their batch order.
 */
export function groupStreams(entries: readonly WorkEntry[]): LokiStream[] {
  const byLabels = new Map<string, WorkEntry[]>();
  for (const e of entries) {
    const list = byLabels.get(e.labels);
    if (list === undefined) byLabels.set(e.labels, [e]);
    else list.push(e);
  }
  const streams: LokiStream[] = [];
  for (const [labels, list] of byLabels) {
    let sorted = true;
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1] as WorkEntry;
      const b = list[i] as WorkEntry;
      if (
        a.timestampMs > b.timestampMs ||
        (a.timestampMs === b.timestampMs && a.timestampNanos > b.timestampNanos)
      ) {
        sorted = false;
        break;
      }
    }
    if (!sorted) {
      list.sort(
        (a, b) =>
          a.timestampMs - b.timestampMs ||
          a.timestampNanos - b.timestampNanos ||
          a.order - b.order,
      );
    }
    streams.push({ labels, entries: list });
  }
  return streams;
}

function jsonBody(streams: readonly LokiStream[]): string {
  const out = streams.map((s) => {
    const labels = parseSelectorPairs(s.labels);
    return {
      stream: labels,
      values: s.entries.map((e) =>
        e.metadata === undefined || e.metadata.length === 0
          ? [formatTimestampNs(e), e.line]
          : [formatTimestampNs(e), e.line, Object.fromEntries(e.metadata)],
      ),
    };
  });
  return JSON.stringify({ streams: out });
}

function parseSelectorPairs(selector: string): Record<string, string> {
  // Names are data: built with fromEntries, `__proto__` stays a key.
  const pairs: Array<[string, string]> = [];
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)=("(?:[^"\\]|\\.)*")/g;
  for (let m = re.exec(selector); m !== null; m = re.exec(selector)) {
    pairs.push([m[1] as string, JSON.parse(m[2] as string) as string]);
  }
  return Object.fromEntries(pairs);
}

/** Encode streams as snappy-compressed protobuf or (gzipped) JSON. */
export async function encodeBody(
  streams: readonly LokiStream[],
  encoding: LokiEncoding,
  gzipJson: boolean,
): Promise<LokiBody> {
  if (encoding === 'protobuf') {
    return {
      body: snappy().compressSync(encodePushRequest(streams)),
      headers: { 'content-type': 'application/x-protobuf' },
    };
  }
  const text = Buffer.from(jsonBody(streams), 'utf8');
  if (!gzipJson) {
    return { body: text, headers: { 'content-type': 'application/json' } };
  }
  return {
    body: await gzipAsync(text),
    headers: {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    },
  };
}

type Snappy = typeof SnappyModule;
let snappyModule: Snappy | undefined;
/**
 * The snappy native addon, loaded with the first protobuf push: a config
 * without a Loki sink does not pay for opening it at start-up.
 */
function snappy(): Snappy {
  snappyModule ??= createRequire(import.meta.url)('snappy') as Snappy;
  return snappyModule;
}
