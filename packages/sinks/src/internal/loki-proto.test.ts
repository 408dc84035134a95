import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { decodePushRequest } from '../testing/loki-push-decoder.js';
import { encodePushRequest, entryWireBytes } from './loki-proto.js';
import type { LokiStream } from './loki-proto.js';

const entryArb = fc.record({
  timestampMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  timestampNanos: fc.integer({ min: 0, max: 999_999 }),
  line: fc.string({ unit: 'binary', maxLength: 300 }),
  metadata: fc.option(
    fc.array(
      fc.tuple(
        fc.string({ minLength: 1, maxLength: 10 }),
        fc.string({ maxLength: 20 }),
      ),
      { maxLength: 3 },
    ),
    { nil: undefined },
  ),
  index: fc.nat(),
});

const streamsArb = fc.array(
  fc.record({
    labels: fc.string({ maxLength: 40 }),
    entries: fc.array(entryArb, { maxLength: 20 }),
  }),
  { maxLength: 6 },
);

function expectedNs(ms: number, nanos: number): string {
  return (BigInt(ms) * 1_000_000n + BigInt(nanos)).toString();
}

describe('encodePushRequest', () => {
  test.prop([streamsArb])(
    'should round-trip exactly through protobufjs',
    (streams) => {
      const decoded = decodePushRequest(
        encodePushRequest(streams as LokiStream[]),
      );
      expect(decoded).toEqual(
        streams.map((s) => ({
          labels: s.labels,
          entries: s.entries.map((e) => ({
            timestampNs: expectedNs(e.timestampMs, e.timestampNanos),
            line: Buffer.from(e.line, 'utf8').toString('utf8'),
            structuredMetadata: Object.fromEntries(e.metadata ?? []),
          })),
        })),
      );
    },
  );

  it('should keep metadata names that are Object.prototype keys (seed 2146351959 lost __proto__)', () => {
    const metadata = [
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['toString', 't'],
      ['hasOwnProperty', 'h'],
    ] as const;
    const decoded = decodePushRequest(
      encodePushRequest([
        {
          labels: '{a="1"}',
          entries: [
            {
              timestampMs: 1,
              timestampNanos: 0,
              line: 'x',
              metadata,
              index: 0,
            },
          ],
        },
      ]),
    );
    const md = decoded[0]?.entries[0]?.structuredMetadata ?? {};
    expect(Object.entries(md)).toEqual(metadata.map(([k, v]) => [k, v]));
    expect(Object.getPrototypeOf(md)).toBe(Object.prototype);
  });

  it('should encode an empty request as zero bytes', () => {
    expect(encodePushRequest([]).length).toBe(0);
  });

  it('should keep nanoseconds of far-future timestamps', () => {
    const buf = encodePushRequest([
      {
        labels: '{a="1"}',
        entries: [
          {
            timestampMs: 4_102_444_800_123,
            timestampNanos: 456_789,
            line: 'x',
            index: 0,
          },
        ],
      },
    ]);
    expect(decodePushRequest(buf)[0]?.entries[0]?.timestampNs).toBe(
      '4102444800123456789',
    );
  });
});

describe('entryWireBytes', () => {
  test.prop([entryArb])(
    'should equal the bytes the entry adds to its stream',
    (entry) => {
      const empty = encodePushRequest([{ labels: 'L', entries: [] }]);
      const one = encodePushRequest([{ labels: 'L', entries: [entry] }]);
      // One stream: 1 tag byte + length varint + body; body grows by entryWireBytes.
      const body = (buf: Buffer): number =>
        buf.length - 1 - (buf.length - 1 > 128 ? 2 : 1);
      expect(
        Math.abs(body(one) - body(empty) - entryWireBytes(entry)),
      ).toBeLessThanOrEqual(2);
      expect(one.length - empty.length).toBeGreaterThanOrEqual(
        entryWireBytes(entry),
      );
    },
  );
});
