// Multiline joining on real files: presets over a file, the cursor of a
// joined record, a rotated file's unterminated last line ending its record,
// and a flush timeout that never cuts a record while reading is held back
// by a slow intake.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCollectingIntake } from '@lc/core/testing';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileHarness } from '../../test/file-harness.js';
import { fileHarness } from '../../test/file-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function trace(n: number, frames: number): string[] {
  return [
    `2026-11-23 10:00:00 ERROR request ${n} failed`,
    `java.lang.IllegalStateException: request ${n}`,
    ...Array.from(
      { length: frames },
      (_, i) => `\tat com.acme.Handler.step${i}(Handler.java:${n})`,
    ),
    `Caused by: java.io.IOException: request ${n}`,
    `\t... ${frames} more`,
  ];
}

let h: FileHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('createFileMonitor', () => {
  describe('multiline', () => {
    it('should join with a preset and give the record the cursor of its last line', async () => {
      h = await fileHarness({
        multiline: { preset: 'java', flushTimeoutMs: 50 },
      });
      const traces = [trace(1, 3), trace(2, 40)];
      const text = `${traces.map((t) => t.join('\n')).join('\n')}\n`;
      writeFileSync(join(h.dir.path, 'app.log'), text);
      await h.monitor.start();
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(traces.map((t) => t.join('\n')));
      expect(h.intake.records.map((r) => r.cursor)).toEqual([
        {
          offset: Buffer.byteLength(`${traces[0]?.join('\n')}\n`),
          line: traces[0]?.length,
        },
        { offset: Buffer.byteLength(text), line: 2 + 3 + 2 + 2 + 40 + 2 },
      ]);
    });

    it('should end a record with the unterminated last line of a rotated file', async () => {
      h = await fileHarness({
        multiline: { startPattern: '^S', flushTimeoutMs: 60_000 },
      });
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, 'S one\n more\nS two\n and');
      await h.monitor.start();
      await h.intake.waitFor(1);
      renameSync(path, join(h.dir.path, 'app.log.1'));
      // The rotated file is finished after its grace: its partial last
      // line is the last line of the pending record, in order.
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(['S one\n more', 'S two\n and']);
    });

    it('should not cut a record on timeout while the intake holds reading back', async () => {
      const intake = createCollectingIntake({ highWaterMark: 5 });
      const registry = new Registry();
      h = await fileHarness({
        intake,
        registry,
        readBufferBytes: 4096,
        maxBytesPerFilePerTick: 4096,
        multiline: { preset: 'java', flushTimeoutMs: 20 },
      });
      const traces = Array.from({ length: 60 }, (_, n) => trace(n, 30));
      writeFileSync(
        join(h.dir.path, 'app.log'),
        `${traces.map((t) => t.join('\n')).join('\n')}\n`,
      );
      await h.monitor.start();
      // A slow consumer: each take is slower than the flush timeout.
      const got: string[] = [];
      while (got.length < traces.length) {
        await intake.waitFor(1, 20_000);
        got.push(...intake.take().map((r) => r.line));
        await sleep(50);
      }
      expect(got).toEqual(traces.map((t) => t.join('\n')));
      // Only the last record (nothing after it) was emitted by the timeout.
      const flushes = await registry
        .getSingleMetric('lc_multiline_flushes_total')
        ?.get();
      expect(flushes?.values).toEqual([
        { labels: { source: 'file', reason: 'timeout' }, value: 1 },
      ]);
    });
  });
});
