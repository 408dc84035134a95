import { describe, expect, it } from 'vitest';
import { NOW, processor, record } from '../../test/records.js';

describe('timestampParseStep', () => {
  describe('create', () => {
    const ts = (extra: Record<string, unknown>) =>
      processor([
        { type: 'json_parse' },
        { type: 'timestamp_parse', field: 'ts', ...extra },
      ]);

    it('should set the event time with nanoseconds from RFC 3339', () => {
      const out = ts({}).process(
        record('{"ts":"2026-11-23T11:59:00.123456789Z"}'),
      );
      expect(out?.timestampMs).toBe(Date.UTC(2026, 10, 23, 11, 59, 0, 123));
      expect(out?.timestampNanos).toBe(456_789);
    });

    it('should apply the configured zone to zone-less times', () => {
      const out = ts({ timezone: '-03:00' }).process(
        record('{"ts":"2026-11-23 08:30:00"}'),
      );
      expect(out?.timestampMs).toBe(Date.UTC(2026, 10, 23, 11, 30, 0));
      const iana = ts({ timezone: 'America/Sao_Paulo' }).process(
        record('{"ts":"2026-11-23 08:30:00"}'),
      );
      expect(iana?.timestampMs).toBe(Date.UTC(2026, 10, 23, 11, 30, 0));
    });

    it('should parse unix seconds, common log and custom patterns', () => {
      expect(
        ts({}).process(record(`{"ts":${NOW / 1000 - 60}}`))?.timestampMs,
      ).toBe(NOW - 60_000);
      const common = processor([
        { type: 'timestamp_parse', pattern: '\\[([^\\]]+)\\]' },
      ]);
      expect(
        common.process(
          record('1.2.3.4 - - [23/Nov/2026:09:00:00 -0300] "GET /"'),
        )?.timestampMs,
      ).toBe(Date.UTC(2026, 10, 23, 12, 0, 0));
      const custom = ts({ formats: ['DD.MM.YYYY HH:mm:ss'] });
      expect(
        custom.process(record('{"ts":"23.11.2026 10:00:00"}'))?.timestampMs,
      ).toBe(Date.UTC(2026, 10, 23, 10));
    });

    it('should clamp, reject or warn on out-of-range times', () => {
      const old = record('{"ts":"2020-01-01T00:00:00Z"}');
      const clamped = ts({ max_past: '1h' }).process(old);
      expect(clamped?.timestampMs).toBe(NOW - 3_600_000);
      expect(
        ts({ max_past: '1h', on_invalid: 'reject' }).process(old),
      ).toBeUndefined();
      const warned = ts({ max_past: '1h', on_invalid: 'warn' }).process(old);
      expect(warned?.labels).toEqual({ timestamp_warning: 'too_old' });
      expect(warned?.timestampMs).toBe(Date.UTC(2020, 0, 1));
      const future = ts({ max_future: '1m' }).process(
        record('{"ts":"2026-11-23T13:00:00Z"}'),
      );
      expect(future?.timestampMs).toBe(NOW + 60_000);
    });

    it('should keep the read time when the text does not parse', () => {
      const r = record('{"ts":"yesterday"}');
      expect(ts({}).process(r)?.timestampMs).toBe(NOW);
    });
  });
});
