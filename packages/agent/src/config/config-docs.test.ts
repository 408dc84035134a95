import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../cli/commands.js';
import { renderConfigDocs } from './config-docs.js';
import { validateConfig } from './load-config.js';

const root = fileURLToPath(new URL('../../../..', import.meta.url));

interface Row {
  /** Where the key sits in a config: `sources.files[].rescan_interval`. */
  readonly path: string;
  readonly type: string;
}

/** Every key row of the rendered reference, step keys under their step. */
function documentedRows(docs: string): Row[] {
  const out: Row[] = [];
  let prefix = '';
  let step: string | undefined;
  for (const line of docs.split('\n')) {
    const heading = /^###? `([^`]+)`/.exec(line);
    if (heading !== null) {
      step = line.startsWith('###') ? heading[1] : undefined;
      prefix = step === undefined ? '' : 'processing.pipelines[].steps[].';
      continue;
    }
    const row = /^\| `([^`]+)` \| ([^|]+?) \|/.exec(line);
    if (row !== null) out.push({ path: `${prefix}${row[1]}`, type: row[2]! });
    if (step !== undefined && row !== null)
      (out.at(-1) as Row & { step?: string }).step = step;
  }
  return out;
}

/**
 * Issues `validateConfig` reports at `row`'s key when it is set to
 * `value` in an otherwise empty config (in a step of the row's type).
 */
function issuesAt(row: Row & { step?: string }, value: unknown): string[] {
  const config: Record<string, unknown> = {};
  let node: Record<string, unknown> = config;
  const parts = row.path.split('.');
  let issuePath = '';
  parts.forEach((part, i) => {
    const isList = part.endsWith('[]');
    const key = isList ? part.slice(0, -2) : part;
    issuePath += `${issuePath === '' ? '' : '.'}${key}${isList ? '[0]' : ''}`;
    if (i === parts.length - 1) {
      node[key] = value;
      return;
    }
    const child: Record<string, unknown> =
      key === 'steps'
        ? { type: row.step }
        : key === 'pipelines'
          ? { name: 'p' }
          : {};
    node[key] = isList ? [child] : child;
    node = child;
  });
  const result = validateConfig(config);
  return result.ok
    ? []
    : result.issues.filter((i) => i.path === issuePath).map((i) => i.message);
}

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
    expect(docs).toContain('### `drop`');
    expect(docs).toContain('| `sinks.loki[].url` | string | required |');
  });

  it('should type each duration and size by what its key accepts', () => {
    const rows = documentedRows(renderConfigDocs());
    const durations = rows.filter((r) => r.type === 'duration');
    const sizes = rows.filter((r) => r.type === 'size');
    expect(durations.length).toBeGreaterThan(10);
    expect(sizes.length).toBeGreaterThan(5);
    for (const row of durations) {
      expect({ row, issues: issuesAt(row, '5s') }).toEqual({ row, issues: [] });
      expect({ row, rejected: issuesAt(row, '64MiB').length > 0 }).toEqual({
        row,
        rejected: true,
      });
    }
    for (const row of sizes) {
      expect({ row, issues: issuesAt(row, '64MiB') }).toEqual({
        row,
        issues: [],
      });
      expect({ row, rejected: issuesAt(row, '5s').length > 0 }).toEqual({
        row,
        rejected: true,
      });
    }
    // A number-or-string key that is neither would need its own word.
    expect(rows.filter((r) => r.type.includes('number \\| string'))).toEqual(
      [],
    );
  });

  it('should list the keys of every step, the drop condition included', () => {
    const docs = renderConfigDocs();
    const tables = docs
      .slice(docs.indexOf('## Processing steps'))
      .split(/^### /m)
      .slice(1);
    expect(tables.length).toBeGreaterThanOrEqual(11);
    for (const table of tables) {
      const name = table.slice(0, table.indexOf('\n'));
      const keys = table.split('\n').filter((l) => /^\| `/.test(l));
      expect({ name, keys: keys.length > 0 }).toEqual({ name, keys: true });
    }
    expect(docs).toContain('| `when` | object | required |');
    expect(docs).toContain('| `when.line_matches` | string |');
  });
});
