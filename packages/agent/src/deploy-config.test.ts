import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatConfigIssues, parseConfig } from './config/load-config.js';
import { DEFAULT_CONFIG_YAML } from './default-config.js';

const deploy = (path: string) =>
  readFileSync(
    fileURLToPath(new URL(`../../../deploy/${path}`, import.meta.url)),
    'utf8',
  );

function expectValid(text: string, env: Record<string, string> = {}): void {
  const result = parseConfig(text, { env });
  expect(result.ok ? '' : formatConfigIssues(result.issues)).toBe('');
}

describe('shipped configurations', () => {
  it('should validate the embedded default config', () => {
    expectValid(DEFAULT_CONFIG_YAML);
  });

  it('should validate deploy/agent.yaml with and without its variables', () => {
    expectValid(deploy('agent.yaml'));
    expectValid(deploy('agent.yaml'), {
      LOKI_URL: 'http://loki.example:3100',
      NODE_NAME: 'n1',
      LC_DOCKER_ENABLED: 'false',
      LC_KUBERNETES_ENABLED: 'true',
    });
  });

  it('should validate deploy/otlp-agent.yaml with and without its variables', () => {
    expectValid(deploy('otlp-agent.yaml'));
    expectValid(deploy('otlp-agent.yaml'), {
      OTLP_ENDPOINT: 'https://otlp.example.com',
      OTLP_AUTHORIZATION: 'Bearer t',
      SERVICE_NAME: 'checkout',
    });
  });

  it('should validate the TLS and SASL examples in deploy/examples', () => {
    expectValid(deploy('examples/loki-mtls.yaml'));
    expectValid(deploy('examples/kafka-sasl-ssl.yaml'));
    expectValid(deploy('examples/kafka-sasl-ssl.yaml'), {
      KAFKA_USERNAME: 'svc-logs',
      LOKI_URL: 'https://10.0.0.5:3100',
    });
  });
});
