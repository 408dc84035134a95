import { z } from 'zod';
import { ENV_OVERRIDES } from './load-config.js';
import { configSchema } from './schema.js';

type Unit = 'duration' | 'size';

interface Node {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Node>;
  items?: Node;
  oneOf?: Node[];
  anyOf?: Node[];
  additionalProperties?: Node | boolean;
  required?: string[];
  /** Added here, not in the published schema: how the value is written. */
  unit?: Unit;
}

/**
 * Durations and sizes are both "a number or a string" in JSON Schema; what
 * tells them apart is what the value accepts, so ask it.
 */
function unitOf(schema: z.ZodType): Unit | undefined {
  const duration = schema.safeParse('5s').success;
  const size = schema.safeParse('64MiB').success;
  if (duration === size) return undefined;
  return duration ? 'duration' : 'size';
}

/** `{type: [number, string]}`, or `anyOf` them (before zod merges it). */
function numberOrString(node: Node): boolean {
  const types = Array.isArray(node.type)
    ? node.type
    : (node.anyOf?.map((n) => n.type) ?? []);
  return (
    types.length === 2 && types.includes('number') && types.includes('string')
  );
}

/** The config's JSON Schema (as `lc-agent schema` prints it), with units. */
function documentedSchema(): Node {
  return z.toJSONSchema(configSchema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      if (numberOrString(ctx.jsonSchema as Node)) {
        const unit = unitOf(ctx.zodSchema as unknown as z.ZodType);
        if (unit !== undefined) (ctx.jsonSchema as Node).unit = unit;
      }
    },
  }) as Node;
}

function typeOf(node: Node): string {
  if (node.unit !== undefined) return node.unit;
  if (node.enum !== undefined)
    return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (node.const !== undefined) return `\`${String(node.const)}\``;
  if (node.anyOf !== undefined) return node.anyOf.map(typeOf).join(' \\| ');
  const t = Array.isArray(node.type)
    ? node.type.join(' \\| ')
    : (node.type ?? 'any');
  if (t === 'array' && node.items !== undefined)
    return `list of ${typeOf(node.items)}`;
  if (t === 'object' && node.properties === undefined) return 'map';
  return t;
}

function split(description: string | undefined): {
  text: string;
  def: string | undefined;
} {
  const text = description ?? '';
  const m = /\s*@default\s+(.+)$/.exec(text);
  return m === null
    ? { text, def: undefined }
    : { text: text.slice(0, m.index), def: m[1] };
}

function rows(
  node: Node,
  path: string,
  out: string[],
  required: Set<string>,
): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const p = path === '' ? key : `${path}.${key}`;
    const { text, def } = split(child.description);
    const shownDefault =
      child.default !== undefined &&
      !(
        typeof child.default === 'object' &&
        Object.keys(child.default as object).length === 0
      )
        ? `\`${JSON.stringify(child.default)}\``
        : def !== undefined
          ? `\`${def}\``
          : required.has(key)
            ? 'required'
            : '';
    const isSection = child.type === 'object' && child.properties !== undefined;
    // A section is listed by its keys; one that must be given (the `drop`
    // step's `when`) also gets a row of its own saying so.
    if (!isSection || required.has(key))
      out.push(
        `| \`${p}\` | ${typeOf(child)} | ${shownDefault} | ${text.replace(/\|/g, '\\|')} |`,
      );
    if (isSection) rows(child, p, out, new Set(child.required ?? []));
    if (child.type === 'array' && child.items?.properties !== undefined) {
      rows(child.items, `${p}[]`, out, new Set(child.items.required ?? []));
    }
  }
}

/** Render docs/configuration.md from the config schema. */
export function renderConfigDocs(): string {
  const schema = documentedSchema();
  const out: string[] = [
    '# lc-agent configuration reference',
    '',
    '<!-- Generated from the zod schema by `pnpm --filter @lc/agent docs:config`; do not edit by hand. -->',
    '',
    'YAML, snake_case keys. Unknown keys are rejected with a "did you mean" hint, and `lc-agent validate`',
    'prints every error with its path (`sinks.loki[0].url: expected a URL, got "htp:/x"`), making every check',
    '`run` makes before it starts (components, globs, writable paths): see [cli.md](cli.md#validate).',
    '',
    '- **Variables:** `${VAR}` and `${VAR:-default}` are substituted in values; `$$` is a literal `$`. An unset',
    '  variable without default is an error, and so is an unterminated `${`. A value that is only `${VAR}` keeps its',
    '  type (`port: ${PORT}` is a number).',
    '- **Durations:** a number of milliseconds or `250ms`, `5s`, `1m30s`, `2h`, `7d`.',
    '- **Sizes:** a number of bytes or `512`, `64KiB`, `64MiB`, `1GiB` (binary) / `1kB`, `1MB`, `1GB` (decimal).',
    `- **Environment overrides** (applied after substitution; the Loki/Kafka ones apply to an existing first sink, \`LC_KAFKA_BROKERS\` is comma-separated): ${Object.keys(
      ENV_OVERRIDES,
    )
      .map((name) => `\`${name}\``)
      .join(', ')}. \`LC_CONFIG_FILE\` replaces \`--config\`.`,
    '- At least one sink is required. A JSON Schema for editors: `lc-agent schema > lc-agent.schema.json`.',
    '- **Hot reload** (SIGHUP or `POST /config/reload`): `sources`, `sinks`, `dispatcher`, `processing` and',
    '  `app.log_level` apply live; `api`, `metrics`, `positions`, `persistence`, `buffer`, `dlq` and the rest of `app` need a restart.',
    '  Files named by sinks (`tls.ca_file`, `cert_file`, `key_file`, `key_password_file`, `password_file`, `bearer_token_file`) are',
    '  read again on every reload; the sinks are rebuilt when one changed, so rotated certificates apply without a restart.',
    '  What the WAL and the disk buffer hold is handed to the new pipeline and delivered once the sink is back, no restart needed;',
    '  batches the WAL holds for a sink the reload removed are dead-lettered (`LC_ERR_CONFIG`, one warn line per sink).',
    '- **Sink TLS:** a `tls` section on `loki`/`http` (https:// URLs) or `kafka` (turns TLS on; `tls: {}` uses the system roots).',
    '  `validate` checks each file is readable, parses as PEM, the key password opens the key and the key matches the certificate.',
    '  Examples: `deploy/examples/loki-mtls.yaml`, `deploy/examples/kafka-sasl-ssl.yaml`.',
    '',
  ];
  const sections = schema.properties ?? {};
  for (const [name, node] of Object.entries(sections)) {
    out.push(
      `## \`${name}\``,
      '',
      '| Key | Type | Default | Meaning |',
      '|---|---|---|---|',
    );
    rows({ properties: { [name]: node } }, '', out, new Set());
    out.push('');
  }
  const steps = (sections['processing']?.properties?.['pipelines']?.items
    ?.properties?.['steps']?.items?.oneOf ?? []) as Node[];
  out.push(
    '## Processing steps',
    '',
    'Every step accepts `when` (a condition: `line_matches`, `line_not_matches`, `labels`, `fields`, `level`; all must hold).',
    '',
  );
  for (const step of steps) {
    const type = String(step.properties?.['type']?.const);
    out.push(
      `### \`${type}\``,
      '',
      '| Key | Type | Default | Meaning |',
      '|---|---|---|---|',
    );
    // `type` is the heading, and the optional `when` every step takes is
    // described once above; a required `when` is the step's own option.
    const required = new Set(step.required ?? []);
    const props = { ...step.properties };
    delete props['type'];
    if (!required.has('when')) delete props['when'];
    rows({ properties: props }, '', out, required);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
