import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../cli/commands.js';
import { renderConfigDocs } from './config-docs.js';

const root = fileURLToPath(new URL('../../../..', import.meta.url));

describe('renderConfigDocs', () => {
  it('should match the committed docs/configuration.md (run `pnpm --filter @lc/agent docs:config`)', () => {
    expect(readFileSync(join(root, 'docs', 'configuration.md'), 'utf8')).toBe(
      renderConfigDocs(),
    );
  });

  it('should match the committed config.schema.json', () => {
    const committed = JSON.parse(
      readFileSync(
        join(root, 'packages', 'agent', 'config.schema.json'),
        'utf8',
      ),
    ) as unknown;
    expect(committed).toEqual(configJsonSchema());
  });

  it('should document every section and step type', () => {
    const docs = renderConfigDocs();
    for (const section of [
      'app',
      'api',
      'sources',
      'dispatcher',
      'positions',
      'persistence',
      'dlq',
      'processing',
      'sinks',
    ]) {
      expect(docs).toContain(`## \`${section}\``);
    }
    expect(docs).toContain('### `redact`');
    expect(docs).toContain('| `sinks.loki[].url` | string | required |');
  });
});
