// Generations compressed before the monitor read them to their end, on
// real files (logrotate `compress` without `delaycompress`: rename, gzip,
// remove), with the real file monitor and position manager.
import {
  appendFileSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { fileHarness } from '../../test/file-harness.js';
import type { FileHarness } from '../../test/file-harness.js';

const numbered = (from: number, to: number): string => {
  let s = '';
  for (let i = from; i < to; i++) s += `line ${i}\n`;
  return s;
};
const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `line ${from + i}`);

/** Rename `path` to `to`, gzip it to `to.gz` and remove it, as logrotate `compress` does. */
function rotateCompressed(path: string, to: string): void {
  renameSync(path, to);
  writeFileSync(`${to}.gz`, gzipSync(readFileSync(to)));
  rmSync(to);
}

let h: FileHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('createFileMonitor', () => {
  describe('compressed generations', () => {
    it('should finish a closed file that grew and was compressed before it was read again, from its .gz', async () => {
      // Nothing looks at the files but flush(): the rotation lands between two looks.
      h = await fileHarness({
        watch: false,
        pollIntervalMs: 60_000,
        rescanIntervalMs: 60_000,
        idleCloseMs: 0,
      });
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 100));
      await h.monitor.start();
      await h.intake.waitFor(100);
      await h.monitor.flush(); // caught up and idle: closed
      expect(h.monitor.status().find((s) => s.path === path)?.open).toBe(false);
      appendFileSync(path, numbered(100, 150));
      rotateCompressed(path, `${path}.1`);
      writeFileSync(path, numbered(150, 160));
      await h.monitor.flush();
      await h.monitor.flush();
      expect(h.lines()).toEqual(
        expect.arrayContaining([...range(100, 150), ...range(150, 160)]),
      );
      expect(h.lines()).toHaveLength(160);
      expect(h.lines().slice(0, 100)).toEqual(range(0, 100));
    });

    it('should resume a file compressed while down from its .gz at the committed offset, and read unseen compressed generations whole', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 100));
      await h.monitor.start();
      await h.intake.waitFor(100);
      h = await h.restart();
      // Down: app.log grew, was rotated and compressed; the next
      // generation was written, rotated and compressed too.
      appendFileSync(path, numbered(100, 150));
      rotateCompressed(path, `${path}.1`);
      writeFileSync(path, numbered(150, 200));
      rotateCompressed(path, `${path}.2`);
      writeFileSync(path, numbered(200, 210));
      await h.monitor.start();
      await h.intake.waitFor(110);
      await h.monitor.flush();
      expect([...h.lines()].sort()).toEqual(range(100, 210).sort());
    });
  });
});
