import { describe, expect, it } from 'vitest';
import { decodeOtlpJson } from '../src/otlp-decoder.js';

describe('decodeOtlpJson', () => {
  it('should refuse field names the official schema does not know', () => {
    expect(() =>
      decodeOtlpJson(
        '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNanos":"1"}]}]}]}',
      ),
    ).toThrow(
      /unknown field \$\.resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.timeUnixNanos/,
    );
  });

  it('should refuse base64 ids and enum names (OTLP/JSON wants hex and integers)', () => {
    expect(() =>
      decodeOtlpJson(
        '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"AAECAwQFBgcICQoLDA0ODw==","severityNumber":"SEVERITY_NUMBER_INFO"}]}]}]}',
      ),
    ).toThrow(/traceId is not hex.*severityNumber must be an integer/);
  });

  it('should decode a valid request', () => {
    const [rl] = decodeOtlpJson(
      '{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000001","severityNumber":9,"body":{"stringValue":"hi"},"traceId":"000102030405060708090a0b0c0d0e0f"}]}]}]}',
    );
    expect(rl?.resource).toEqual({ 'service.name': 'a' });
    expect(rl?.records[0]).toMatchObject({
      timeUnixNano: '1700000000000000001',
      severityNumber: 9,
      body: 'hi',
      traceId: '000102030405060708090a0b0c0d0e0f',
    });
  });
});
