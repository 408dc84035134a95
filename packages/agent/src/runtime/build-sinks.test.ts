import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { buildSinks, sinkName } from './build-sinks.js';

describe('buildSinks', () => {
  it('should build every configured sink with its name, routes and default set', async () => {
    const config = unwrapConfig(
      parseConfig(
        `sinks:
  loki: [{url: "http://127.0.0.1:1/", match: {job: "api-*"}}]
  file: [{directory: /tmp/lc-a}, {name: audit, directory: /tmp/lc-b, match: {level: error}}]
  stdout: [{}]
`,
        { env: {} },
      ),
    );
    const built = await buildSinks(config, {});
    expect(built.sinks.map((s) => s.name)).toEqual([
      'loki',
      'file-0',
      'audit',
      'stdout',
    ]);
    expect(built.defaultSinks).toEqual(['file-0', 'stdout']);
    expect(built.routes).toHaveLength(2);
    const [loki, audit] = built.routes;
    expect(loki?.sinks).toEqual(['loki']);
    expect((loki?.match['job'] as RegExp).test('api-eu')).toBe(true);
    expect((loki?.match['job'] as RegExp).test('web')).toBe(false);
    expect(audit?.sinks).toEqual(['audit']);
    await Promise.all(built.sinks.map((s) => s.shutdown()));
  });
});

describe('buildSinks (kafka dedup_headers)', () => {
  it('should default dedup_headers to all and refuse an unknown value by its path', () => {
    const kafka = (extra: string) =>
      parseConfig(
        `sinks: {kafka: [{brokers: ["127.0.0.1:1"], topic: t${extra}}]}\n`,
        { env: {} },
      );
    const ok = kafka('');
    expect(ok.ok && ok.config.sinks.kafka[0]?.dedup_headers).toBe('all');
    const picked = kafka(', dedup_headers: record_id');
    expect(picked.ok && picked.config.sinks.kafka[0]?.dedup_headers).toBe(
      'record_id',
    );
    const bad = kafka(', dedup_headers: some');
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).toContain('sinks.kafka[0].dedup_headers');
  });
});

describe('sinkName', () => {
  it('should name a lone sink by its type and numbered ones by index', () => {
    expect(sinkName('file', 0, 1)).toBe('file');
    expect(sinkName('file', 1, 2)).toBe('file-1');
    expect(sinkName('file', 1, 2, 'audit')).toBe('audit');
  });
});
