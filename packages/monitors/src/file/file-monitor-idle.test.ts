// Idle files: with no fs.watch event (`watch: false`) and no rescan in the
// test's lifetime, the idle checks are the only way the monitor can notice
// that an idle, closed file grew, was truncated or was rotated. Real files;
// every wait is for lines or descriptors, never a fixed sleep.
import {
  appendFileSync,
  renameSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fileHarness } from '../../test/file-harness.js';
import type { FileHarness } from '../../test/file-harness.js';

const numbered = (from: number, to: number, prefix = 'line'): string => {
  let s = '';
  for (let i = from; i < to; i++) s += `${prefix} ${i}\n`;
  return s;
};
const expected = (from: number, to: number, prefix = 'line'): string[] =>
  numbered(from, to, prefix).trimEnd().split('\n');

/** The monitor closed every file (idle past `idleCloseMs`). */
const allClosed = (h: FileHarness): boolean =>
  h.monitor.status().every((s) => !s.open);

/** No event and no rescan: only the idle checks can see a change. */
const NO_EVENTS = {
  watch: false,
  rescanIntervalMs: 3_600_000,
  idleCloseMs: 100,
  maxIdlePollIntervalMs: 150,
} as const;

let h: FileHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('createFileMonitor', () => {
  describe('idle files', () => {
    it('should read every line of an idle, closed file that grows again with no event', async () => {
      h = await fileHarness(NO_EVENTS);
      const dir = h.dir.path;
      const path = join(dir, 'a.log');
      writeFileSync(path, numbered(0, 50));
      await h.monitor.start();
      await eventually(() => h?.lines().length === 50, 'first 50 lines');
      // Closed: idle past idleCloseMs, so past its hot window too.
      await eventually(
        () => h !== undefined && allClosed(h),
        'the idle file closed',
      );
      appendFileSync(path, numbered(50, 120));
      await eventually(() => h?.lines().length === 120, 'lines written later');
      // Idle again, then a second burst: the backoff starts over.
      await eventually(() => h !== undefined && allClosed(h), 'closed again');
      appendFileSync(path, numbered(120, 200));
      await eventually(() => h?.lines().length === 200, 'second burst');
      expect(h.lines()).toEqual(expected(0, 200));
    });

    it('should read a rotated idle file to its end and the new file at its path with no event', async () => {
      h = await fileHarness(NO_EVENTS);
      const dir = h.dir.path;
      const path = join(dir, 'a.log');
      writeFileSync(path, numbered(0, 30, 'old'));
      await h.monitor.start();
      await eventually(() => h?.lines().length === 30, 'first lines');
      await eventually(
        () => h !== undefined && allClosed(h),
        'the idle file closed',
      );
      // Rotated by rename (not matched by the glob any more), written to
      // after the rename, and a new file created at the path.
      renameSync(path, join(dir, 'a.log.1'));
      appendFileSync(join(dir, 'a.log.1'), numbered(30, 45, 'old'));
      writeFileSync(path, numbered(0, 20, 'new'));
      await eventually(
        () => h?.lines().length === 65,
        'the rotated tail and the new file',
      );
      const lines = h.lines();
      expect(lines.filter((l) => l.startsWith('old'))).toEqual(
        expected(0, 45, 'old'),
      );
      expect(lines.filter((l) => l.startsWith('new'))).toEqual(
        expected(0, 20, 'new'),
      );
    });

    it('should read a truncated idle file again from its start with no event', async () => {
      h = await fileHarness(NO_EVENTS);
      const dir = h.dir.path;
      const path = join(dir, 'a.log');
      writeFileSync(path, numbered(0, 40, 'before'));
      await h.monitor.start();
      await eventually(() => h?.lines().length === 40, 'first lines');
      await eventually(
        () => h !== undefined && allClosed(h),
        'the idle file closed',
      );
      truncateSync(path, 0);
      appendFileSync(path, numbered(0, 10, 'after'));
      await eventually(
        () => h?.lines().length === 50,
        'lines after truncation',
      );
      expect(h.lines().slice(40)).toEqual(expected(0, 10, 'after'));
    });
  });
});
