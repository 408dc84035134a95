#!/usr/bin/env -S node --single-threaded-gc --max-semi-space-size=4 --heap-growing-percent=100
// The `lc-agent` command. It only loads the built CLI (dist/cli.js): being
// a committed file, it lets `pnpm install` link the bin in this workspace
// before the first build, without a "Failed to create bin" warning.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    `lc-agent: ${fileURLToPath(cli)} does not exist: build the agent first (pnpm build)\n`,
  );
  process.exit(1);
}
await import(cli.href);
