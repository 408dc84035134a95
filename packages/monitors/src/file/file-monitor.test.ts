import {
  appendFileSync,
  mkdirSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fileHarness } from '../../test/file-harness.js';
import type { FileHarness } from '../../test/file-harness.js';

const numbered = (from: number, to: number): string => {
  let s = '';
  for (let i = from; i < to; i++) s += `line ${i}\n`;
  return s;
};
const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `line ${from + i}`);

let h: FileHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('createFileMonitor', () => {
  describe('start', () => {
    it('should read existing files from the beginning with cursors and labels', async () => {
      h = await fileHarness({ labels: { team: 'a' }, instance: 'host1' });
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 100));
      await h.monitor.start();
      await h.intake.waitFor(100);
      expect(h.lines()).toEqual(range(0, 100));
      const r = h.intake.records[99];
      expect(r?.cursor).toEqual({ offset: numbered(0, 100).length, line: 100 });
      expect(r?.labels).toEqual({
        source: 'file',
        file_path: path,
        file_name: 'app.log',
        team: 'a',
        instance: 'host1',
      });
      expect(h.intake.records[0]?.labels).toBe(r?.labels);
      expect(r?.source.kind).toBe('file');
      expect(r?.source.id).toMatch(/^\d+:\d+$/);
    });

    it('should start at the end or at a recent line start when configured', async () => {
      h = await fileHarness({ startPosition: 'end' });
      writeFileSync(join(h.dir.path, 'end.log'), numbered(0, 10));
      await h.monitor.start();
      appendFileSync(join(h.dir.path, 'end.log'), numbered(10, 12));
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(range(10, 12));
      await h.close();
      h = await fileHarness({ startPosition: 'recent', recentBytes: 20 });
      writeFileSync(join(h.dir.path, 'recent.log'), numbered(0, 100));
      await h.monitor.start();
      await h.intake.waitFor(2);
      await h.monitor.flush();
      // 20 bytes before the end is inside "line 97\n"; the next line start is line 98.
      expect(h.lines()).toEqual(range(98, 100));
    });

    it('should read files created after start from the beginning', async () => {
      h = await fileHarness({ startPosition: 'end' });
      await h.monitor.start();
      mkdirSync(join(h.dir.path, 'sub/deeper'), { recursive: true });
      writeFileSync(join(h.dir.path, 'sub/deeper/new.log'), numbered(0, 5));
      await h.intake.waitFor(5);
      expect(h.lines()).toEqual(range(0, 5));
    });
  });

  describe('reading', () => {
    it('should hold a partial line until it is completed', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'p.log');
      writeFileSync(path, 'first\nsec');
      await h.monitor.start();
      await h.intake.waitFor(1);
      await h.monitor.flush();
      expect(h.lines()).toEqual(['first']);
      appendFileSync(path, 'ond\r\nthird\n');
      await h.intake.waitFor(3);
      expect(h.lines()).toEqual(['first', 'second', 'third']);
      expect(h.intake.records[1]?.cursor).toEqual({
        offset: 'first\nsecond\r\n'.length,
        line: 2,
      });
    });

    it('should truncate long lines and keep reading the file', async () => {
      h = await fileHarness({ maxLineBytes: 100 });
      const path = join(h.dir.path, 'long.log');
      writeFileSync(path, `${'x'.repeat(1000)}\nafter\n${'y'.repeat(150)}`);
      await h.monitor.start();
      appendFileSync(path, `${'y'.repeat(150)}\nend\n`);
      await h.intake.waitFor(4);
      expect(h.lines()).toEqual([
        'x'.repeat(100),
        'after',
        'y'.repeat(100),
        'end',
      ]);
    });

    it('should skip long lines with the skip policy', async () => {
      h = await fileHarness({ maxLineBytes: 100, longLinePolicy: 'skip' });
      writeFileSync(join(h.dir.path, 'long.log'), `a\n${'x'.repeat(500)}\nb\n`);
      await h.monitor.start();
      await h.intake.waitFor(2);
      await h.monitor.flush();
      expect(h.lines()).toEqual(['a', 'b']);
      expect(h.intake.records[1]?.cursor).toEqual({ offset: 505, line: 3 });
    });

    it('should decode utf16le and latin1 and replace invalid utf8', async () => {
      h = await fileHarness({ encoding: 'utf16le' });
      writeFileSync(
        join(h.dir.path, 'u16.log'),
        Buffer.from('héllo\r\nwörld\n', 'utf16le'),
      );
      await h.monitor.start();
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(['héllo', 'wörld']);
      await h.close();
      h = await fileHarness({ encoding: 'latin1' });
      writeFileSync(
        join(h.dir.path, 'l1.log'),
        Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]),
      );
      await h.monitor.start();
      await h.intake.waitFor(1);
      expect(h.lines()).toEqual(['café']);
      await h.close();
      h = await fileHarness();
      writeFileSync(
        join(h.dir.path, 'bad.log'),
        Buffer.concat([
          Buffer.from('ok\n'),
          Buffer.from([0xff, 0xfe, 0x41, 0x0a]),
        ]),
      );
      await h.monitor.start();
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(['ok', '\uFFFD\uFFFDA']);
    });
  });

  describe('rotation', () => {
    it('should finish a renamed file through its handle, then read the new one from 0', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 10));
      await h.monitor.start();
      await h.intake.waitFor(10);
      renameSync(path, `${path}.1`);
      appendFileSync(`${path}.1`, numbered(10, 15)); // late writes by the old writer
      writeFileSync(path, numbered(15, 20));
      await h.intake.waitFor(20);
      expect([...h.lines()].sort()).toEqual(range(0, 20).sort());
      const ids = new Set(h.intake.records.map((r) => r.source.id));
      expect(ids.size).toBe(2);
    });

    it('should restart at 0 after truncation and after copytruncate, recovering from the copy', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 10));
      await h.monitor.start();
      await h.intake.waitFor(10);
      truncateSync(path, 0);
      appendFileSync(path, numbered(10, 12));
      await h.intake.waitFor(12);
      // copytruncate: lines 12..20 reach the file and the copy before we read them.
      await h.monitor.flush();
      appendFileSync(path, numbered(12, 20));
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      appendFileSync(path, numbered(20, 22));
      await h.intake.waitFor(22, 5000);
      expect([...h.lines()].sort()).toEqual(range(0, 22).sort());
    });

    it('should drain a deleted file and close it after the grace', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'gone.log');
      writeFileSync(path, numbered(0, 3));
      await h.monitor.start();
      await h.intake.waitFor(3);
      appendFileSync(path, 'partial');
      rmSync(path);
      await h.intake.waitFor(4);
      expect(h.lines()[3]).toBe('partial');
      await eventually(
        () =>
          h?.monitor.status().every((s) => s.state === 'completed') === true,
        'closed',
      );
    });
  });
});
