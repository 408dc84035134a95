#!/usr/bin/env node
// lc-agent command line. Until the agent issue lands this only reports what
// the workspace built, so the README's quick start stays true.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rows: string[] = [];
for (const dir of readdirSync(packagesDir)) {
  const manifest = join(packagesDir, dir, 'package.json');
  if (!existsSync(manifest)) continue;
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
    name: string;
    version: string;
    private?: boolean;
  };
  if (pkg.private === true) continue;
  const built = existsSync(join(packagesDir, dir, 'dist', 'index.js'));
  rows.push(
    `${pkg.name.padEnd(18)} ${pkg.version.padEnd(8)} ${built ? 'built' : 'not built'}`,
  );
}
process.stdout.write(
  `lc-agent: the agent is not assembled yet; workspace packages:\n${rows.join('\n')}\n`,
);
