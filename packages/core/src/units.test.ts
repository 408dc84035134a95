import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  humanDuration,
  humanSize,
  parseDurationMs,
  parseSizeBytes,
} from './units.js';

describe('parseDurationMs', () => {
  it('should parse compound human durations', () => {
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('5s')).toBe(5000);
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('2d')).toBe(172_800_000);
    expect(parseDurationMs(42)).toBe(42);
    expect(parseDurationMs('42')).toBe(42);
  });

  it('should reject garbage', () => {
    for (const bad of ['', '5 sec', 's', '5x', '-1s', '1s garbage']) {
      expect(() => parseDurationMs(bad)).toThrow(/expected a duration/);
    }
  });

  test.prop([fc.nat(10_000), fc.constantFrom('ms', 's', 'm', 'h', 'd')])(
    'should scale any whole amount by its unit',
    (n, unit) => {
      const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
        unit
      ];
      expect(parseDurationMs(`${n}${unit}`)).toBe(n * factor);
    },
  );
});

describe('parseSizeBytes', () => {
  it('should parse decimal and binary units', () => {
    expect(parseSizeBytes('64MiB')).toBe(64 * 1024 * 1024);
    expect(parseSizeBytes('1GB')).toBe(1e9);
    expect(parseSizeBytes('10 kib')).toBe(10_240);
    expect(parseSizeBytes('512')).toBe(512);
    expect(parseSizeBytes(7)).toBe(7);
  });

  it('should reject unknown units', () => {
    expect(() => parseSizeBytes('5 parsecs')).toThrow(/expected a size/);
  });
});

describe('humanDuration', () => {
  it('should write the shortest exact form', () => {
    expect(humanDuration(0)).toBe('0s');
    expect(humanDuration(90_000)).toBe('1m30s');
    expect(humanDuration(7 * 86_400_000)).toBe('7d');
    expect(humanDuration(250)).toBe('250ms');
  });

  test.prop([fc.nat(10 * 86_400_000)])(
    'should round-trip through parseDurationMs',
    (ms) => {
      expect(parseDurationMs(humanDuration(ms))).toBe(ms);
    },
  );
});

describe('humanSize', () => {
  it('should use binary units only when exact', () => {
    expect(humanSize(64 * 1024 * 1024)).toBe('64MiB');
    expect(humanSize(1000)).toBe('1000');
  });

  test.prop([fc.nat(2 ** 40)])(
    'should round-trip through parseSizeBytes',
    (bytes) => {
      expect(parseSizeBytes(humanSize(bytes))).toBe(bytes);
    },
  );
});
