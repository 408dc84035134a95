// Regenerates docs/configuration.md and config.schema.json from the schema.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'prettier';
import { configJsonSchema } from '../src/cli/commands.js';
import { renderConfigDocs } from '../src/config/config-docs.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(
  join(pkg, '..', '..', 'docs', 'configuration.md'),
  renderConfigDocs(),
);
writeFileSync(
  join(pkg, 'config.schema.json'),
  await format(JSON.stringify(configJsonSchema()), { parser: 'json' }),
);
process.stdout.write(
  'wrote docs/configuration.md and packages/agent/config.schema.json\n',
);
