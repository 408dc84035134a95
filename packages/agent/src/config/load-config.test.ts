import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig, unwrapConfig } from './load-config.js';
import { REDACTED } from './redact-secrets.js';

const SINK = 'sinks: {stdout: [{}]}\n';

function issuesOf(text: string, env: Record<string, string> = {}) {
  const result = parseConfig(text, { env });
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.issues.map((i) => `${i.path}: ${i.message}`);
}

describe('parseConfig', () => {
  describe('rejections', () => {
    const table: [name: string, yaml: string, expected: string][] = [
      [
        'a URL without a valid scheme',
        'sinks: {loki: [{url: "htp:/x"}]}',
        'sinks.loki[0].url: expected a URL, got "htp:/x"',
      ],
      [
        'a misspelled key',
        `${SINK}dispatcher: {workerz: 3}`,
        'dispatcher.workerz: unknown key "workerz", did you mean "workers"?',
      ],
      [
        'a misspelled section',
        `${SINK}positons: {}`,
        'positons: unknown key "positons", did you mean "positions"?',
      ],
      [
        'a bad duration',
        `${SINK}dispatcher: {batch_timeout: 5 sec}`,
        'dispatcher.batch_timeout: expected a duration like "5s", got "5 sec"',
      ],
      [
        'a bad size',
        `${SINK}dispatcher: {max_queue_bytes: 64 MiBs}`,
        'dispatcher.max_queue_bytes: expected a size like "64MiB", got "64 MiBs"',
      ],
      [
        'an enum typo',
        'sinks: {file: [{directory: ./o, format: jsno}]}',
        'sinks.file[0].format: expected one of "json", "text", got "jsno"; did you mean "json"?',
      ],
      [
        'a wrong type',
        `${SINK}api: {port: "abc"}`,
        'api.port: expected number, got "abc"',
      ],
      [
        'a port out of range',
        `${SINK}api: {port: 70000}`,
        'api.port: expected a number at most 65535, got 70000',
      ],
      [
        'no sinks at all',
        'app: {name: x}',
        'sinks: at least one sink is required (loki, kafka, file, stdout, http, otlp or custom)',
      ],
      [
        'an OTLP sink without an endpoint',
        'sinks: {otlp: [{encoding: json}]}',
        'sinks.otlp[0].endpoint: give endpoint (base URL, /v1/logs is appended) or logs_endpoint (full URL)',
      ],
      [
        'an OTLP sink with both endpoints',
        'sinks: {otlp: [{endpoint: "http://c:4318", logs_endpoint: "http://c:4318/v1/logs"}]}',
        'sinks.otlp[0].endpoint: give endpoint or logs_endpoint, not both',
      ],
      [
        'an OTLP compression typo',
        'sinks: {otlp: [{endpoint: "http://c:4318", compression: gzp}]}',
        'sinks.otlp[0].compression: expected one of "gzip", "none", got "gzp"; did you mean "gzip"?',
      ],
      [
        'empty kafka brokers',
        'sinks: {kafka: [{brokers: [], topic: t}]}',
        'sinks.kafka[0].brokers: expected at least 1 item(s), got a list',
      ],
      [
        'a missing required key',
        'sinks: {kafka: [{brokers: [a:1]}]}',
        'sinks.kafka[0].topic: expected string, got nothing',
      ],
      [
        'an unknown step type',
        `${SINK}processing: {pipelines: [{name: p, steps: [{type: json_pars}]}]}`,
        'processing.pipelines[0].steps[0].type: unknown step type "json_pars", did you mean "json_parse"?',
      ],
      [
        'an invalid regex',
        `${SINK}processing: {pipelines: [{name: p, steps: [{type: regex_extract, pattern: "(a"}]}]}`,
        'processing.pipelines[0].steps[0].pattern: expected a valid regular expression, got "(a"',
      ],
      [
        'a sample rate above 1',
        `${SINK}processing: {pipelines: [{name: p, steps: [{type: sample, rate: 2}]}]}`,
        'processing.pipelines[0].steps[0].rate: expected a number at most 1, got 2',
      ],
      [
        'duplicate sink names',
        'sinks: {stdout: [{name: a}], file: [{name: a, directory: x}]}',
        'sinks.stdout[0].name: duplicate sink name "a" (also sinks.file[0].name)',
      ],
      [
        'a public bind without token',
        `${SINK}api: {host: 0.0.0.0}`,
        'api.token: a token is required when the API binds to a non-loopback address ("0.0.0.0")',
      ],
      [
        'redis store without URL',
        `${SINK}positions: {store: redis}`,
        'positions.redis_url: required when positions.store is "redis"',
      ],
      [
        'spill with a drop policy',
        `${SINK}dispatcher: {drop_policy: drop_newest, spill: {enabled: true}}`,
        'dispatcher.spill.enabled: spill needs dispatcher.drop_policy "block", got "drop_newest"',
      ],
      [
        'an unset variable',
        `${SINK}api: {port: "\${LC_TEST_PORT}"}`,
        'api.port: environment variable "LC_TEST_PORT" is not set (use ${LC_TEST_PORT:-default} for a default)',
      ],
      ['invalid YAML', 'sinks: [a\n  b: c', ': invalid YAML'],
    ];
    for (const [name, yaml, expected] of table) {
      it(`should report ${name} with its path`, () => {
        const issues = issuesOf(yaml);
        expect(issues.some((i) => i.startsWith(expected))).toBe(true);
      });
    }

    it('should report every error at once, not only the first', () => {
      const issues = issuesOf(
        'sinks: {loki: [{url: "htp:/x", prot: 1}]}\ndispatcher: {workerz: 1, batch_timeout: x}\n',
      );
      expect(issues).toHaveLength(4);
    });
  });

  describe('substitution', () => {
    it('should substitute ${VAR} and ${VAR:-default} and keep scalar types', () => {
      const result = parseConfig(
        `${SINK}api: {port: "\${P}", host: "\${H:-127.0.0.1}"}\napp: {name: "lc-\${N:-x}-\${P}"}`,
        { env: { P: '9001' } },
      );
      const config = unwrapConfig(result);
      expect(config.api.port).toBe(9001);
      expect(config.api.host).toBe('127.0.0.1');
      expect(config.app.name).toBe('lc-x-9001');
    });

    it('should keep $$ as a literal dollar', () => {
      const config = unwrapConfig(
        parseConfig(`${SINK}app: {name: "a$$b"}`, { env: {} }),
      );
      expect(config.app.name).toBe('a$b');
    });

    it('should reject an unterminated or malformed ${ reference, naming only the variable', () => {
      expect(
        issuesOf(`${SINK}api: {token: "\${NU_TOKEN"}`, { NU_TOKEN: 'x' }),
      ).toEqual([
        'api.token: unterminated variable reference "${NU_TOKEN" (missing "}"; write "$${" for a literal "${")',
      ]);
      const [bad] = issuesOf(`${SINK}app: {name: "a\${1x}b"}`);
      expect(bad).toMatch(/^app\.name: invalid variable reference "\$\{1x…"/);
      // The rest of a value that may be a secret is never quoted.
      expect(
        issuesOf(`${SINK}api: {token: "s3cr3t-\${T"}`).join('\n'),
      ).not.toContain('s3cr3t');
      expect(
        unwrapConfig(parseConfig(`${SINK}app: {name: "$\${A}b"}`, { env: {} }))
          .app.name,
      ).toBe('${A}b');
    });

    it('should apply LC_* environment overrides after substitution', () => {
      const config = unwrapConfig(
        parseConfig(`sinks: {loki: [{url: "http://a:3100"}]}\napi: {port: 1}`, {
          env: {
            LC_API_PORT: '9002',
            LC_LOKI_URL: 'http://b:3100',
            LC_LOG_LEVEL: 'debug',
          },
        }),
      );
      expect(config.api.port).toBe(9002);
      expect(config.sinks.loki[0]?.url).toBe('http://b:3100');
      expect(config.app.log_level).toBe('debug');
    });

    it('should not invent a sink from an override', () => {
      const config = unwrapConfig(
        parseConfig(SINK, { env: { LC_LOKI_URL: 'http://b:3100' } }),
      );
      expect(config.sinks.loki).toEqual([]);
    });
  });

  describe('defaults and units', () => {
    it('should apply defaults and parse human units', () => {
      const config = unwrapConfig(
        parseConfig(
          `${SINK}dispatcher: {batch_timeout: 1m30s, max_queue_bytes: 2MiB}`,
          { env: {} },
        ),
      );
      expect(config.dispatcher.batch_timeout).toBe(90_000);
      expect(config.dispatcher.max_queue_bytes).toBe(2 * 1024 * 1024);
      expect(config.api).toMatchObject({ host: '127.0.0.1', port: 8401 });
      expect(config.positions).toMatchObject({
        flush_interval: 0,
        fsync: 'interval',
      });
    });
  });
});

describe('loadConfigFile', () => {
  it('should read a file and report an unreadable one as an issue', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lc-config-'));
    const path = join(dir, 'c.yaml');
    await writeFile(path, SINK);
    expect((await loadConfigFile(path, { env: {} })).ok).toBe(true);
    const missing = await loadConfigFile(join(dir, 'nope.yaml'));
    expect(missing.ok).toBe(false);
  });
});

describe('parseConfig', () => {
  describe('secrets', () => {
    it('should never echo a secret in an error message', () => {
      const result = parseConfig(
        [
          'api: {token: 123456789}',
          'sinks:',
          '  loki: [{url: "htp://bob:url-pass-77@x", password: {a: 1}}]',
          '  http: [{url: "http://127.0.0.1:1", headers: {Authorization: [hdr-secret-88]}}]',
        ].join('\n'),
        { env: {} },
      );
      if (result.ok) throw new Error('expected the config to be rejected');
      const text = JSON.stringify(result.issues);
      for (const secret of ['123456789', 'url-pass-77', 'hdr-secret-88'])
        expect(text).not.toContain(secret);
      expect(result.issues).toEqual(
        expect.arrayContaining([
          { path: 'api.token', message: 'expected string, got a number' },
          {
            path: 'sinks.loki[0].password',
            message: 'expected string, got a map',
          },
          {
            path: 'sinks.loki[0].url',
            message: `expected a URL, got "htp://${REDACTED}@x"`,
          },
        ]),
      );
    });
  });
});
