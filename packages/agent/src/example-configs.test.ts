import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatConfigIssues, parseConfig } from './config/load-config.js';

const dir = fileURLToPath(
  new URL('../../../examples/configs/', import.meta.url),
);

describe('examples/configs', () => {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    it(`should validate ${name} with and without its variables`, () => {
      const text = readFileSync(`${dir}${name}`, 'utf8');
      for (const env of [{}, { LC_DOCKER_ENABLED: 'true', ENV: 'staging' }]) {
        const result = parseConfig(text, { env });
        expect(result.ok ? '' : formatConfigIssues(result.issues)).toBe('');
      }
    });
  }

  it('should join Java traces and read compressed generations in java-service.yaml', () => {
    const result = parseConfig(
      readFileSync(`${dir}java-service.yaml`, 'utf8'),
      { env: {} },
    );
    if (!result.ok) throw new Error(formatConfigIssues(result.issues));
    const [java, batch] = result.config.sources.files;
    expect(java?.multiline?.preset).toBe('java');
    expect(java?.include).toContain('/var/log/orders/*.gz');
    expect(java?.read_compressed).toBe(true);
    expect(batch?.multiline?.start_pattern).toBe('^\\d{4}-\\d{2}-\\d{2}[ T]');
    expect(result.config.sources.docker.multiline?.preset).toBe('java');
  });
});
