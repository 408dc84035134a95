import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileHarness } from '../file-harness.js';

const FILES = 10_000;
const BUDGET = 256;

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('createFileMonitor', () => {
  describe('start', () => {
    it(`should discover and read ${FILES} files in a tree with descriptors within maxOpenFiles`, async () => {
      // Offset markers off: the position manager's marker handles are its
      // own bounded set (positions README), not the monitor's descriptors.
      const h = await fileHarness(
        { maxOpenFiles: BUDGET, rescanIntervalMs: 60_000 },
        undefined,
        { computeMarkers: false },
      );
      try {
        for (let d = 0; d < 100; d++) {
          const dir = join(h.dir.path, `svc-${d % 10}`, `pod-${d}`);
          mkdirSync(dir, { recursive: true });
          for (let f = 0; f < FILES / 100; f++)
            writeFileSync(join(dir, `c${f}.log`), `file ${d}/${f}\n`);
        }
        const fdsBefore = openFds();
        let maxFds = 0;
        const sampler = setInterval(() => {
          maxFds = Math.max(maxFds, openFds() - fdsBefore);
        }, 5);
        await h.monitor.start();
        await h.intake.waitFor(FILES, 120_000);
        clearInterval(sampler);
        expect(new Set(h.lines()).size).toBe(FILES);
        expect(
          h.monitor.status().filter((s) => s.open).length,
        ).toBeLessThanOrEqual(BUDGET);
        // File descriptors held by the monitor (directory watchers use one inotify fd).
        expect(maxFds).toBeLessThanOrEqual(BUDGET + 8);
      } finally {
        await h.close();
      }
    }, 180_000);
  });
});
