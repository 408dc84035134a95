import { readFileSync } from 'node:fs';

/**
 * The Node flags a CLI script's `#!/usr/bin/env -S node <flags>` line asks
 * for, so a test that spawns the script through `node` (or tsx) runs it the
 * way its binary runs. `[]` for a plain `#!/usr/bin/env node`.
 */
export function shebangNodeFlags(script: string): string[] {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(first);
  return m?.[1] === undefined ? [] : m[1].trim().split(/\s+/);
}
