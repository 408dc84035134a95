import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(
  new URL('../fixtures/await-retry-child.ts', import.meta.url),
);
const pkgDir = fileURLToPath(new URL('../..', import.meta.url));

function run(): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--conditions=@lc/source', '--import', 'tsx', child],
      { cwd: pkgDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('createDispatcher', () => {
  describe('whenWritable and flush', () => {
    it('should keep the process alive while awaited, even when only a retry is pending', async () => {
      const { code, out, err } = await run();
      // Exit code 13 would be Node's "unsettled top-level await".
      expect({ code, err }).toEqual({ code: 0, err: '' });
      const result = JSON.parse(out) as { delivered: number; paused: number };
      expect(result.delivered).toBe(40);
      expect(result.paused).toBeGreaterThan(0);
    });
  });
});
