import { fc, test as fcTest } from '@fast-check/vitest';
import { formatRfc3339Nano, parseRfc3339Nano } from '@lc/core';
import { describe, expect, it } from 'vitest';
import { parseCriLine } from './cri-parser.js';

describe('parseCriLine', () => {
  it('should parse time with nanoseconds, stream, tag and message', () => {
    expect(
      parseCriLine('2026-01-01T12:00:00.123456789Z stdout F hello world'),
    ).toEqual({
      timestampMs: Date.UTC(2026, 0, 1, 12) + 123,
      timestampNanos: 456_789,
      stream: 'stdout',
      partial: false,
      message: 'hello world',
    });
    expect(parseCriLine('2026-01-01T12:00:00.5Z stderr P part')).toEqual({
      timestampMs: Date.UTC(2026, 0, 1, 12) + 500,
      timestampNanos: 0,
      stream: 'stderr',
      partial: true,
      message: 'part',
    });
  });

  it('should read times without a fraction, with offsets, and fractions past nanoseconds', () => {
    const noon = Date.UTC(2026, 0, 1, 12);
    expect(parseCriLine('2026-01-01T12:00:00Z stdout F x')?.timestampMs).toBe(
      noon,
    );
    // containerd writes the node's zone when it is not UTC.
    expect(
      parseCriLine('2026-01-01T14:00:00.000000001+02:00 stdout F x'),
    ).toMatchObject({ timestampMs: noon, timestampNanos: 1 });
    expect(
      parseCriLine('2026-01-01T11:30:00-00:30 stdout F x')?.timestampMs,
    ).toBe(noon);
    expect(
      parseCriLine('2026-01-01T12:00:00.1234567891Z stdout F x'),
    ).toMatchObject({ timestampMs: noon + 123, timestampNanos: 456_789 });
  });

  it('should keep every byte of the message, spaces and tabs included', () => {
    expect(
      parseCriLine('2026-01-01T12:00:00Z stdout F   two  spaces\t')?.message,
    ).toBe('  two  spaces\t');
    expect(parseCriLine('2026-01-01T12:00:00Z stdout F ')?.message).toBe('');
    expect(parseCriLine('2026-01-01T12:00:00Z stdout F')?.message).toBe('');
  });

  it('should accept tags with more fields after a colon', () => {
    expect(
      parseCriLine('2026-01-01T12:00:00Z stdout P:x:y message'),
    ).toMatchObject({ partial: true, message: 'message' });
  });

  it('should reject lines that are not CRI', () => {
    for (const bad of [
      '',
      'plain text from a misconfigured runtime',
      '2026-01-01 12:00:00Z stdout F x',
      '2026-13-01T12:00:00Z stdout F x',
      '2026-01-01T12:00:00.Z stdout F x',
      '2026-01-01T12:00:00 stdout F x',
      '2026-01-01T12:00:00Z stdin F x',
      '2026-01-01T12:00:00Z stdout X x',
      '2026-01-01T12:00:00Z stdout FF x',
      '2026-01-01T12:00:00+0200 stdout F x',
      '{"log":"docker json-file","stream":"stdout"}',
    ])
      expect(parseCriLine(bad), bad).toBeUndefined();
  });

  fcTest.prop([
    fc.integer({ min: 0, max: 4_102_444_800_000 }),
    fc.integer({ min: 0, max: 999_999 }),
    fc.constantFrom('stdout', 'stderr'),
    fc.boolean(),
    fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\n')),
  ])(
    'should give back the time and message it was written with',
    (timestampMs, timestampNanos, stream, partial, message) => {
      const time = formatRfc3339Nano({ timestampMs, timestampNanos });
      const parsed = parseCriLine(
        `${time} ${stream} ${partial ? 'P' : 'F'} ${message}`,
      );
      expect(parsed).toEqual({
        timestampMs,
        timestampNanos,
        stream,
        partial,
        message,
      });
      expect(parsed).toMatchObject(parseRfc3339Nano(time));
    },
  );
});
