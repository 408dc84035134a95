import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shebangNodeFlags } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';

const CLI = join(dirname(fileURLToPath(import.meta.url)), 'cli.ts');
const BIN_SHIM = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'bin',
  'lc-agent.js',
);

describe('lc-agent shebang', () => {
  it('should run the binary with single-threaded GC and a small heap headroom, and this Node should accept every flag', () => {
    const flags = shebangNodeFlags(CLI);
    // Measured on 2 cores (docs/benchmarks.md): parallel and concurrent GC
    // threads cost more CPU than they save wall time for a log shipper.
    expect(flags).toContain('--single-threaded-gc');
    // Issue 16 (docs/benchmarks.md): the live heap at steady state is ~22 MB;
    // V8's defaults let the young generation take 32 MB and the old one grow
    // to 4× the live size before collecting, which was most of the RSS.
    expect(flags).toContain('--max-semi-space-size=4');
    expect(flags).toContain('--heap-growing-percent=100');
    const run = spawnSync(process.execPath, [...flags, '-e', '0'], {
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('should start the installed command (bin/lc-agent.js) with the same Node flags as the CLI', () => {
    expect(shebangNodeFlags(BIN_SHIM)).toEqual(shebangNodeFlags(CLI));
  });
});
