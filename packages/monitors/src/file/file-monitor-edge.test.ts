import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createCollectingIntake } from '@lc/core/testing';
import { LcError } from '@lc/core';
import { eventually, fileHarness } from '../../test/file-harness.js';
import type { FileHarness } from '../../test/file-harness.js';
import { createFileMonitor } from './file-monitor.js';

const numbered = (from: number, to: number, prefix = 'line'): string => {
  let s = '';
  for (let i = from; i < to; i++) s += `${prefix} ${i}\n`;
  return s;
};
/** Descriptors of this process open on files under `dir` (Linux /proc). */
function openDescriptorsUnder(dir: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) n++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return n;
}
const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

let h: FileHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('createFileMonitor', () => {
  describe('shutdown', () => {
    it('should stop and close its files when the intake shuts down while it waits for room', async () => {
      const intake = createCollectingIntake({ highWaterMark: 10 });
      h = await fileHarness({ intake });
      const dir = h.dir.path;
      writeFileSync(join(dir, 'a.log'), numbered(0, 1000));
      await h.monitor.start();
      await eventually(() => intake.records.length >= 10, 'blocked');
      await sleep(100);
      expect(openDescriptorsUnder(dir)).toBeGreaterThan(0);
      intake.close();
      // Before the fix the monitor awaited its own running pass here and
      // never closed anything.
      await eventually(
        () => openDescriptorsUnder(dir) === 0,
        'every file closed after the intake shut down',
      );
    });
  });

  describe('options', () => {
    it('should reject invalid options with LC_ERR_INVALID_OPTION naming the option', () => {
      const intake = createCollectingIntake();
      const positions = {
        get: () => undefined,
        list: () => [],
        upsertFile: () => undefined,
        reset: () => undefined,
      };
      const make = (o: object) => () =>
        createFileMonitor({ intake, positions, include: ['/tmp/*.log'], ...o });
      expect(make({ include: [] })).toThrow(/include/);
      expect(make({ include: ['relative/*.log'] })).toThrow(/absolute/);
      expect(make({ include: ['/tmp/*.log', '/tmp/{a,b.log'] })).toThrow(
        /option `include\[1\]` must be a valid glob: "\{" at character 6 is never closed/,
      );
      expect(make({ exclude: ['[.log'] })).toThrow(
        /option `exclude\[0\]` must be a valid glob: "\[" in "\[\.log" is never closed/,
      );
      expect(make({ encoding: 'ebcdic' })).toThrow(/encoding/);
      expect(make({ maxOpenFiles: 0 })).toThrow(/maxOpenFiles/);
      expect(
        make({ multiline: { startPattern: 'a', endPattern: 'b' } }),
      ).toThrow(/multiline/);
      try {
        make({ longLinePolicy: 'drop' })();
      } catch (error) {
        expect(LcError.isInstance(error, 'LC_ERR_INVALID_OPTION')).toBe(true);
      }
    });
  });

  describe('edge cases', () => {
    it('should survive a 10 MB line, binary garbage and 0-byte files, counting replacements', async () => {
      const registry = new Registry();
      h = await fileHarness({ registry, maxLineBytes: 1024 });
      writeFileSync(join(h.dir.path, 'empty.log'), '');
      const big = join(h.dir.path, 'big.log');
      writeFileSync(big, `${'z'.repeat(10 * 1024 * 1024)}\nafter big\n`);
      const garbage = randomBytes(64 * 1024);
      writeFileSync(
        join(h.dir.path, 'bin.log'),
        Buffer.concat([garbage, Buffer.from('\nafter garbage\n')]),
      );
      await h.monitor.start();
      await eventually(
        () =>
          h?.lines().includes('after big') === true &&
          h.lines().includes('after garbage'),
        'lines after big and garbage',
      );
      const first = h.intake.records.find(
        (r) => r.labels.file_name === 'big.log',
      );
      expect(first?.line).toBe('z'.repeat(1024));
      writeFileSync(join(h.dir.path, 'empty.log'), 'now written\n');
      await eventually(
        () => h?.lines().includes('now written') === true,
        'the 0-byte file to be read once written',
      );
      const text = await registry.metrics();
      expect(text).toMatch(
        /lc_file_long_lines_total\{action="truncated"\} [1-9]/,
      );
      expect(text).toMatch(/lc_file_invalid_chars_total [1-9]/);
    });

    it('should emit a file with no trailing newline only once the line is final', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'nonl.log');
      writeFileSync(path, 'a\nno newline yet');
      await h.monitor.start();
      await h.intake.waitFor(1);
      await sleep(200);
      expect(h.lines()).toEqual(['a']);
      const st = h.monitor.status().find((s) => s.path === path);
      expect(st?.readOffset).toBe(16);
      expect(st?.committedOffset).toBe(2);
      appendFileSync(path, ' — done\n');
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(['a', 'no newline yet — done']);
    });

    it('should ignore directories matching the glob, follow symlinks once and end symlink loops', async () => {
      h = await fileHarness();
      const d = h.dir.path;
      mkdirSync(join(d, 'dir.log'));
      mkdirSync(join(d, 'real'));
      writeFileSync(join(d, 'real/x.log'), 'x1\n');
      symlinkSync(join(d, 'real'), join(d, 'link'));
      symlinkSync(d, join(d, 'real/loop'));
      symlinkSync(join(d, 'real/x.log'), join(d, 'alias.log'));
      await h.monitor.start();
      await h.intake.waitFor(1);
      await h.monitor.flush();
      await sleep(300);
      expect(h.lines()).toEqual(['x1']);
    });

    it('should honour exclude globs, hidden files and selfPaths', async () => {
      h = await fileHarness({
        exclude: ['**/skip/**', '**/*.debug.log'],
        selfPaths: [],
      });
      await h.close();
      const base = await fileHarness();
      const d = base.dir.path;
      await base.close();
      mkdirSync(d, { recursive: true });
      h = await fileHarness(
        {
          exclude: [`${d}/skip`, '/**/*.debug.log'],
          selfPaths: [join(d, 'agent')],
        },
        {
          dir: {
            path: d,
            cleanup: async () => rmSync(d, { recursive: true, force: true }),
          },
          store: base.store,
        },
      );
      for (const sub of ['skip', 'agent', 'ok']) mkdirSync(join(d, sub));
      writeFileSync(join(d, 'skip/a.log'), 'skipped\n');
      writeFileSync(join(d, 'agent/out.log'), 'self\n');
      writeFileSync(join(d, 'ok/a.debug.log'), 'debug\n');
      writeFileSync(join(d, 'ok/.hidden.log'), 'hidden\n');
      writeFileSync(join(d, 'ok/a.log'), 'kept\n');
      await h.monitor.start();
      await h.intake.waitFor(1);
      appendFileSync(join(d, 'agent/out.log'), 'self again\n');
      await sleep(300);
      expect(h.lines()).toEqual(['kept']);
    });

    it('should keep reading other files while files appear and vanish, and when a directory is recreated', async () => {
      h = await fileHarness();
      const d = h.dir.path;
      const stable = join(d, 'stable.log');
      writeFileSync(stable, '');
      await h.monitor.start();
      for (let i = 0; i < 50; i++) {
        const p = join(d, `flash-${i}.log`);
        writeFileSync(p, `flash ${i}\n`);
        if (i % 2 === 0) await sleep(1);
        rmSync(p);
        appendFileSync(stable, `stable ${i}\n`);
      }
      await eventually(
        () => h?.lines().filter((l) => l.startsWith('stable')).length === 50,
        'all stable lines',
      );
      mkdirSync(join(d, 'sub'));
      writeFileSync(join(d, 'sub/one.log'), 'one\n');
      await eventually(
        () => h?.lines().includes('one') === true,
        'sub/one.log',
      );
      rmSync(join(d, 'sub'), { recursive: true });
      await sleep(50);
      mkdirSync(join(d, 'sub'));
      writeFileSync(join(d, 'sub/two.log'), 'two\n');
      await eventually(
        () => h?.lines().includes('two') === true,
        'a file in the recreated directory',
      );
      expect(h.lines().filter((l) => l.startsWith('stable'))).toEqual(
        Array.from({ length: 50 }, (_, i) => `stable ${i}`),
      );
    });
  });

  describe('multiline', () => {
    it('should join Java stack traces, Python tracebacks and Go panics by start pattern', async () => {
      h = await fileHarness({
        multiline: { startPattern: /^\d{4}-\d\d-\d\d /, flushTimeoutMs: 100 },
      });
      const java = [
        '2026-11-23 10:00:00 ERROR boom',
        'java.lang.IllegalStateException: bad',
        '\tat com.example.A.run(A.java:10)',
        '\tat com.example.B.main(B.java:5)',
        'Caused by: java.io.IOException: disk',
        '\t... 2 more',
      ];
      const python = [
        '2026-11-23 10:00:01 ERROR failed',
        'Traceback (most recent call last):',
        '  File "app.py", line 3, in <module>',
        '    main()',
        'ValueError: nope',
      ];
      const go = [
        '2026-11-23 10:00:02 panic: runtime error',
        'goroutine 1 [running]:',
        'main.main()',
        '\t/app/main.go:7 +0x1d',
      ];
      writeFileSync(
        join(h.dir.path, 'ml.log'),
        `${[...java, ...python, ...go, '2026-11-23 10:00:03 INFO ok'].join('\n')}\n`,
      );
      await h.monitor.start();
      await h.intake.waitFor(4);
      expect(h.lines()).toEqual([
        java.join('\n'),
        python.join('\n'),
        go.join('\n'),
        '2026-11-23 10:00:03 INFO ok',
      ]);
      const cursor = h.intake.records[0]?.cursor as {
        offset: number;
        line: number;
      };
      expect(cursor.line).toBe(java.length);
      expect(cursor.offset).toBe(`${java.join('\n')}\n`.length);
    });

    it('should join by continue and end patterns and cap by maxLines', async () => {
      h = await fileHarness({
        multiline: { continuePattern: /^\s/, maxLines: 3, flushTimeoutMs: 50 },
      });
      writeFileSync(join(h.dir.path, 'c.log'), 'a\n b\n c\n d\ne\n');
      await h.monitor.start();
      await h.intake.waitFor(3);
      expect(h.lines()).toEqual(['a\n b\n c', ' d', 'e']);
      await h.close();
      h = await fileHarness({
        multiline: { endPattern: /;$/, flushTimeoutMs: 50 },
      });
      writeFileSync(join(h.dir.path, 'e.log'), 'select\n*\nfrom t;\nnext;\n');
      await h.monitor.start();
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(['select\n*\nfrom t;', 'next;']);
    });
  });

  describe('atRisk', () => {
    it('should say a rotated-away file is at risk while it is open with uncommitted bytes, and not once it is read and closed', async () => {
      // No auto-commit: nothing read is committed, as while a sink is slow.
      const intake = createCollectingIntake({ highWaterMark: 100 });
      h = await fileHarness({ intake });
      const path = join(h.dir.path, 'a.log');
      writeFileSync(path, numbered(0, 5000));
      await h.monitor.start();
      await intake.waitFor(100);
      // Paused on backpressure, but the file is where it was: not at risk.
      expect(h.monitor.atRisk()).toBe(false);
      renameSync(path, `${path}.1`);
      writeFileSync(path, numbered(0, 10, 'new'));
      await eventually(() => h?.monitor.atRisk() === true, 'rotated at risk');
      // Drain: the old generation is read to its end and closed.
      let taken = 0;
      while (taken < 5010) {
        taken += intake.take().length;
        await intake.waitFor(Math.min(5010, taken + 1), 5000).catch(() => {});
      }
      await eventually(
        () => h?.monitor.atRisk() === false,
        'rotated file read and closed',
      );
      await h.monitor.shutdown();
      expect(h.monitor.atRisk()).toBe(false);
    });
  });

  describe('resources', () => {
    it('should stop reading under backpressure and resume when the intake drains', async () => {
      const intake = createCollectingIntake({ highWaterMark: 100 });
      h = await fileHarness({
        intake,
        readBufferBytes: 4096,
        maxBytesPerFilePerTick: 4096,
      });
      writeFileSync(join(h.dir.path, 'big.log'), numbered(0, 20_000));
      await h.monitor.start();
      await intake.waitFor(100);
      await sleep(300);
      // One chunk of overshoot at most: 4096 bytes / 10-byte lines.
      expect(intake.records.length).toBeLessThan(100 + 600);
      let taken = 0;
      while (taken < 20_000) {
        taken += intake.take().length;
        await sleep(5);
        if (taken < 20_000)
          await intake.waitFor(Math.min(20_000, taken + 1), 5000);
      }
      expect(intake.records.map((r) => r.line)).toEqual(
        numbered(0, 20_000).trimEnd().split('\n'),
      );
    });

    it('should keep open descriptors within maxOpenFiles and still read every file', async () => {
      h = await fileHarness({ maxOpenFiles: 5 });
      for (let i = 0; i < 60; i++)
        writeFileSync(join(h.dir.path, `f${i}.log`), `file ${i}\n`);
      let maxOpen = 0;
      const sampler = setInterval(() => {
        const open = h?.monitor.status().filter((s) => s.open).length ?? 0;
        maxOpen = Math.max(maxOpen, open);
      }, 1);
      await h.monitor.start();
      await h.intake.waitFor(60);
      for (let i = 0; i < 60; i++)
        appendFileSync(join(h.dir.path, `f${i}.log`), `again ${i}\n`);
      await h.intake.waitFor(120);
      clearInterval(sampler);
      expect(maxOpen).toBeLessThanOrEqual(5);
      expect(new Set(h.lines()).size).toBe(120);
      expect(readdirSync(h.dir.path).length).toBe(60);
    });
  });
});
