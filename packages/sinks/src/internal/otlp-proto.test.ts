// The hand-written OTLP encoders checked against the OFFICIAL OpenTelemetry
// definitions (protobufjs code generated from opentelemetry-proto, shipped by
// @opentelemetry/otlp-transformer, a dev dependency of @lc/test-utils).
import { gunzipSync, gzipSync } from 'node:zlib';
import { fc, test } from '@fast-check/vitest';
import { decodeOtlpJson, decodeOtlpProtobuf } from '@lc/test-utils';
import type { DecodedOtlpResourceLogs } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { encodeExportLogsJson, logRecordJson } from './otlp-json.js';
import {
  encodeExportLogsRequest,
  logRecordWireBytes,
  resourceWireBytes,
} from './otlp-proto.js';
import type {
  OtlpAttributeSet,
  OtlpInstant,
  OtlpLogRecord,
  OtlpResourceLogs,
} from './otlp-proto.js';

/** Strings as they come back from UTF-8 (lone surrogates become U+FFFD). */
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

const pairsArb = fc.uniqueArray(
  fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 30 })),
  { maxLength: 5, selector: ([k]) => utf8(k) },
);
const setArb = pairsArb.map((pairs): OtlpAttributeSet => ({ pairs }));
const bytesArb = (n: number) =>
  fc.option(
    fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a)),
    { nil: undefined },
  );
const instantArb = fc.record({
  // Up to 2^44 ms (year 2527): fixed64 nanoseconds without a bigint.
  timestampMs: fc.integer({ min: 0, max: 2 ** 44 }),
  timestampNanos: fc.integer({ min: 0, max: 999_999 }),
});

function recordsArb(shared: OtlpAttributeSet[]) {
  return fc.array(
    fc
      .record({
        at: instantArb,
        line: fc.string({ unit: 'binary', maxLength: 200 }),
        severityNumber: fc.integer({ min: 0, max: 24 }),
        severityText: fc.option(fc.string({ maxLength: 10 }), {
          nil: undefined,
        }),
        shared: fc.constantFrom(...shared),
        own: fc.option(pairsArb, { nil: undefined }),
        traceId: bytesArb(16),
        spanId: bytesArb(8),
        flags: fc.integer({ min: 0, max: 255 }),
      })
      .map((r): OtlpLogRecord => ({
        ...r.at,
        line: r.line,
        lineBytes: Buffer.byteLength(r.line),
        severityNumber: r.severityNumber,
        severityText: r.severityText,
        shared: r.shared,
        own: r.own,
        traceId: r.traceId,
        spanId: r.spanId,
        flags: r.flags,
      })),
    { maxLength: 12 },
  );
}

const requestArb = fc
  .tuple(fc.array(setArb, { minLength: 1, maxLength: 4 }), instantArb)
  .chain(([shared, observed]) =>
    fc.tuple(
      fc.array(fc.record({ resource: setArb, records: recordsArb(shared) }), {
        maxLength: 4,
      }),
      fc.constant(observed),
    ),
  );

function ns(t: OtlpInstant): string {
  return (
    BigInt(t.timestampMs) * 1_000_000n +
    BigInt(t.timestampNanos)
  ).toString();
}

/** What the official decoder must return for `groups`. */
function expected(
  groups: readonly OtlpResourceLogs[],
  observed: OtlpInstant,
): DecodedOtlpResourceLogs[] {
  return groups.map((g) => {
    const resource = Object.fromEntries(
      g.resource.pairs.map(([k, v]) => [utf8(k), utf8(v)]),
    );
    return {
      resource,
      records: g.records.map((r) => {
        const pairs = [...r.shared.pairs, ...(r.own ?? [])].map(
          ([k, v]) => [utf8(k), utf8(v)] as const,
        );
        return {
          resource,
          timeUnixNano: ns(r),
          observedTimeUnixNano: ns(observed),
          severityNumber: r.severityNumber,
          severityText: utf8(r.severityText ?? ''),
          body: utf8(r.line),
          attributes: Object.fromEntries(pairs),
          attributeKeys: pairs.map(([k]) => k),
          traceId: r.traceId?.toString('hex') ?? '',
          spanId: r.spanId?.toString('hex') ?? '',
          flags: r.flags,
        };
      }),
    };
  });
}

describe('encodeExportLogsRequest', () => {
  test.prop([requestArb])(
    'should decode with the official OTLP definitions to the same records',
    ([groups, observed]) => {
      const body = encodeExportLogsRequest(groups, observed);
      expect(decodeOtlpProtobuf(body)).toEqual(expected(groups, observed));
    },
  );

  test.prop([requestArb])(
    'should take no more bytes than the sizes used to split requests',
    ([groups, observed]) => {
      const body = encodeExportLogsRequest(groups, observed);
      let bound = 0;
      for (const g of groups) {
        bound += resourceWireBytes(g.resource);
        for (const r of g.records) bound += logRecordWireBytes(r);
      }
      expect(body.length).toBeLessThanOrEqual(bound);
    },
  );

  it('should write exact nanoseconds past 2^53 (fixed64 without a bigint)', () => {
    const shared: OtlpAttributeSet = { pairs: [] };
    const at = { timestampMs: 1_700_000_000_123, timestampNanos: 456_789 };
    const record: OtlpLogRecord = {
      ...at,
      line: 'x',
      lineBytes: 1,
      severityNumber: 0,
      severityText: undefined,
      shared,
      own: undefined,
      traceId: undefined,
      spanId: undefined,
      flags: 0,
    };
    const body = encodeExportLogsRequest(
      [{ resource: shared, records: [record] }],
      { timestampMs: 2 ** 44, timestampNanos: 999_999 },
    );
    const [decoded] = decodeOtlpProtobuf(body)[0]?.records ?? [];
    expect(decoded?.timeUnixNano).toBe('1700000000123456789');
    expect(decoded?.observedTimeUnixNano).toBe(
      (2n ** 44n * 1_000_000n + 999_999n).toString(),
    );
  });
});

describe('encodeExportLogsJson', () => {
  test.prop([requestArb])(
    'should decode strictly (OTLP/JSON field names, hex ids) to the same records',
    ([groups, observed]) => {
      const text = encodeExportLogsJson(
        groups.map((g) => ({
          resource: g.resource,
          records: g.records.map((r) => logRecordJson(r, observed)),
        })),
      );
      expect(decodeOtlpJson(text)).toEqual(expected(groups, observed));
      // gzip is transparent (the sink compresses the same text).
      expect(gunzipSync(gzipSync(text)).toString()).toBe(text);
    },
  );
});
