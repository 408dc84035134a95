import protobuf from 'protobufjs';

/**
 * Loki's push schema (logproto, gogoproto options removed), decoded with
 * protobufjs: an implementation independent of the sink's hand-written
 * encoder, so the test endpoint checks the real wire format.
 */
const root = protobuf.Root.fromJSON({
  nested: {
    logproto: {
      nested: {
        PushRequest: {
          fields: {
            streams: { rule: 'repeated', type: 'StreamAdapter', id: 1 },
          },
        },
        StreamAdapter: {
          fields: {
            labels: { type: 'string', id: 1 },
            entries: { rule: 'repeated', type: 'EntryAdapter', id: 2 },
            hash: { type: 'uint64', id: 3 },
          },
        },
        EntryAdapter: {
          fields: {
            timestamp: { type: 'Timestamp', id: 1 },
            line: { type: 'string', id: 2 },
            structuredMetadata: {
              rule: 'repeated',
              type: 'LabelPairAdapter',
              id: 3,
            },
          },
        },
        LabelPairAdapter: {
          fields: {
            name: { type: 'string', id: 1 },
            value: { type: 'string', id: 2 },
          },
        },
        Timestamp: {
          fields: {
            seconds: { type: 'int64', id: 1 },
            nanos: { type: 'int32', id: 2 },
          },
        },
      },
    },
  },
});

/** The protobufjs type for `logproto.PushRequest`. */
export const PushRequestType = root.lookupType('logproto.PushRequest');

/** One entry as decoded from a push. */
export interface DecodedLokiEntry {
  /** Decimal epoch nanoseconds, exact. */
  readonly timestampNs: string;
  readonly line: string;
  /** Structured metadata; empty object when none. */
  readonly structuredMetadata: Readonly<Record<string, string>>;
}

/** One stream as decoded from a push, labels exactly as sent. */
export interface DecodedLokiStream {
  readonly labels: string;
  readonly entries: DecodedLokiEntry[];
}

interface RawPush {
  streams?: Array<{
    labels?: string;
    entries?: Array<{
      timestamp?: { seconds?: string; nanos?: number };
      line?: string;
      structuredMetadata?: Array<{ name?: string; value?: string }>;
    }>;
  }>;
}

function nsFrom(seconds: string, nanos: number): string {
  const total = BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
  return total.toString();
}

/** Decode an uncompressed protobuf PushRequest. Throws on bad input. */
export function decodePushRequest(bytes: Uint8Array): DecodedLokiStream[] {
  const message = PushRequestType.decode(bytes);
  const raw = PushRequestType.toObject(message, {
    longs: String,
    defaults: true,
  }) as RawPush;
  return (raw.streams ?? []).map((s) => ({
    labels: s.labels ?? '',
    entries: (s.entries ?? []).map((e) => {
      // Metadata names are data: fromEntries keeps `__proto__` a key.
      const md: Record<string, string> = Object.fromEntries(
        (e.structuredMetadata ?? []).map((p) => [p.name ?? '', p.value ?? '']),
      );
      return {
        timestampNs: nsFrom(
          e.timestamp?.seconds ?? '0',
          e.timestamp?.nanos ?? 0,
        ),
        line: e.line ?? '',
        structuredMetadata: md,
      };
    }),
  }));
}

/** Decode Loki's JSON push body (`{"streams":[{"stream":{},"values":[]}]}`). */
export function decodeJsonPush(text: string): DecodedLokiStream[] {
  const parsed = JSON.parse(text) as {
    streams?: Array<{
      stream?: Record<string, string>;
      values?: Array<[string, string, Record<string, string>?]>;
    }>;
  };
  if (!Array.isArray(parsed.streams)) {
    throw new Error('loghttp.PushRequest: "streams" must be an array');
  }
  return parsed.streams.map((s) => {
    const stream = s.stream ?? {};
    const keys = Object.keys(stream).sort();
    const labels = `{${keys.map((k) => `${k}=${JSON.stringify(stream[k])}`).join(', ')}}`;
    return {
      labels,
      entries: (s.values ?? []).map(([ts, line, md]) => {
        if (typeof ts !== 'string' || !/^\d+$/.test(ts)) {
          throw new Error(
            `loghttp.PushRequest: invalid timestamp ${JSON.stringify(ts)}`,
          );
        }
        return {
          timestampNs: BigInt(ts).toString(),
          line: String(line),
          structuredMetadata: { ...(md ?? {}) },
        };
      }),
    };
  });
}
