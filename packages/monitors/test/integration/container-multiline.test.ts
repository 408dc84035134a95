// Multiline joining of container logs on the real Docker engine: stdout
// and stderr joined separately, a joined record keeps its first line's
// timestamp, and a monitor stopped in the middle of a stack trace leaves
// a position from which the next one reads the trace whole.
import { compareTimestamps } from '@lc/core';
import { skipWithout } from '@lc/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from './container-helpers.js';
import {
  ContainerCase,
  linesOf,
  startMonitor,
  waitExited,
  waitUntil,
} from './container-helpers.js';

const TRACE = [
  'ERROR [main] c.a.Orders - order 42 failed',
  'java.lang.IllegalStateException: boom',
  '\tat com.acme.Orders.get(Orders.java:31)',
  'Caused by: java.io.IOException: disk',
  '\t... 12 more',
];

/** Shell commands printing `lines` to `fd` (1 or 2); `%b` turns `\t` into a tab. */
const print = (lines: string[], fd: 1 | 2) =>
  lines
    .map((l) => `printf '%b\\n' '${l.replace(/\t/g, '\\t')}' >&${fd}`)
    .join('; ');

describe.skipIf(await skipWithout('docker'))('createContainerMonitor', () => {
  const c = new ContainerCase();
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.monitor.shutdown();
    h = undefined;
    await c.cleanup();
  });

  describe('multiline', () => {
    it('should join a stderr stack trace while stdout lines interleave, with the first line timestamp', async () => {
      const registry = new Registry();
      h = await startMonitor(c, {
        multiline: { preset: 'java', flushTimeoutMs: 60_000 },
        registry,
      });
      const container = await c.run(
        [
          print(['INFO one'], 1),
          print(TRACE.slice(0, 2), 2),
          print(['INFO two'], 1),
          'sleep 2',
          print(TRACE.slice(2), 2),
          print(['INFO three'], 1),
          print(['WARN after'], 2),
        ].join('; '),
      );
      await waitExited(container);
      // The last record of each stream is emitted when the container stops.
      await h.intake.waitFor(5, 30_000);
      const records = h.intake.records;
      expect(linesOf(records, container.id, 'stdout')).toEqual([
        'INFO one',
        'INFO two',
        'INFO three',
      ]);
      expect(linesOf(records, container.id, 'stderr')).toEqual([
        TRACE.join('\n'),
        'WARN after',
      ]);
      const trace = records.find((r) => r.line === TRACE.join('\n'));
      const after = records.find((r) => r.line === 'WARN after');
      // Its timestamp is its first line's: two seconds before its last
      // line (the container slept between them) and the line after it.
      // Docker stamps a line when it reads the pipe, not when it is
      // written: half the sleep is the bound that holds (its last line's
      // stamp would be within milliseconds of the next line's).
      expect(compareTimestamps(trace!, after!)).toBeLessThan(0);
      expect(after!.timestampMs - trace!.timestampMs).toBeGreaterThanOrEqual(
        1000,
      );
      expect(
        await registry.getSingleMetricAsString('lc_multiline_flushes_total'),
      ).toContain(
        'lc_multiline_flushes_total{source="container",reason="flush"}',
      );
    }, 60_000);

    it('should leave a monitor stopped mid-trace a position from which the next one reads the trace whole', async () => {
      h = await startMonitor(c, {
        multiline: { preset: 'java', flushTimeoutMs: 60_000 },
      });
      const positions = h.positions;
      // The second half of the trace is written 4 s later: the first
      // monitor is stopped while the trace is half read.
      const container = await c.run(
        [
          print(['INFO start'], 1),
          print(TRACE.slice(0, 3), 2),
          print(['INFO between'], 1),
          'sleep 4',
          print(TRACE.slice(3), 2),
          print(['INFO end'], 1),
        ].join('; '),
      );
      // "INFO start" leaves once "INFO between" arrives; the trace is pending.
      await h.intake.waitFor(1, 30_000);
      const first = h.monitor;
      await first.shutdown();
      const delivered = h.intake.records.map((r) => r.line);
      expect(delivered).toEqual(['INFO start']);
      h = await startMonitor(
        c,
        { multiline: { preset: 'java', flushTimeoutMs: 60_000 } },
        positions,
      );
      await waitExited(container);
      await h.intake.waitFor(3, 30_000);
      await waitUntil(
        () => h?.monitor.status()[0]?.state === 'stopped',
        30_000,
        'container stopped',
      );
      expect(linesOf(h.intake.records, container.id, 'stderr')).toEqual([
        TRACE.join('\n'),
      ]);
      // Docker copies stdout and stderr in two goroutines: "INFO start" can
      // land after the trace's first line in the log, so the position may
      // sit before it and it may come again (whole: duplicates, not loss).
      const stdout = ['INFO start', 'INFO between', 'INFO end'];
      const again = linesOf(h.intake.records, container.id, 'stdout');
      expect(stdout.slice(stdout.length - again.length)).toEqual(again);
      expect(again.length).toBeGreaterThanOrEqual(2);
    }, 60_000);
  });
});
