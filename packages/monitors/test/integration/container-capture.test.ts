import { compareTimestamps } from '@lc/core';
import { skipWithout } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from './container-helpers.js';
import {
  ContainerCase,
  linesOf,
  range,
  startMonitor,
  waitExited,
} from './container-helpers.js';

describe.skipIf(await skipWithout('docker'))('createContainerMonitor', () => {
  const c = new ContainerCase();
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.monitor.shutdown();
    h = undefined;
    await c.cleanup();
  });

  describe('start', () => {
    it('should capture every stdout and stderr line exactly once, labelled and in order', async () => {
      const n = 20_000;
      h = await startMonitor(c);
      const container = await c.run(
        `awk 'BEGIN{for(i=0;i<${n};i++){print "out" i; print "err" i > "/dev/stderr"}}'`,
      );
      await h.intake.waitFor(2 * n, 60_000);
      await waitExited(container);
      const records = h.intake.records;
      expect(linesOf(records, container.id, 'stdout')).toEqual(range('out', n));
      expect(linesOf(records, container.id, 'stderr')).toEqual(range('err', n));
      const first = records[0];
      expect(first?.labels).toMatchObject({
        source: 'container',
        container_id: container.id,
        image: 'lc-test/busybox',
      });
      expect(Object.isFrozen(first?.labels)).toBe(true);
      for (const stream of ['stdout', 'stderr']) {
        const rs = records.filter((r) => r.labels.stream === stream);
        // One frozen label object per container and stream.
        expect(new Set(rs.map((r) => r.labels)).size).toBe(1);
        for (let i = 1; i < rs.length; i++) {
          expect(compareTimestamps(rs[i - 1]!, rs[i]!)).toBeLessThanOrEqual(0);
        }
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(h.intake.records.length).toBe(2 * n);
    }, 120_000);

    it('should keep interleaved stdout/stderr exact across frequent rotations', async () => {
      // Docker stamps the two streams in two goroutines: the log order can
      // disagree with timestamp order, which a resume must not trip over.
      const n = 30_000;
      h = await startMonitor(c, { streamRotationMs: 200 });
      const container = await c.run(
        `awk 'BEGIN{for(i=0;i<${n};i++){print "o" i; print "e" i > "/dev/stderr"; if (i % 1000 == 0) system("sleep 0.1")}}'`,
      );
      await waitExited(container);
      await h.intake.waitFor(2 * n, 90_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(linesOf(h.intake.records, container.id, 'stdout')).toEqual(
        range('o', n),
      );
      expect(linesOf(h.intake.records, container.id, 'stderr')).toEqual(
        range('e', n),
      );
      expect(h.monitor.status()[0]?.rotations).toBeGreaterThan(0);
    }, 120_000);

    it('should read a container that exits within 200 ms from its first line', async () => {
      h = await startMonitor(c);
      const containers = await Promise.all(
        Array.from({ length: 5 }, (_, k) =>
          c.run(`seq 1 300 | sed 's/^/q${k}-/'`),
        ),
      );
      await Promise.all(containers.map(waitExited));
      await h.intake.waitFor(5 * 300, 30_000);
      for (const [k, container] of containers.entries()) {
        expect(linesOf(h.intake.records, container.id)).toEqual(
          range(`q${k}-`, 300, 1),
        );
      }
    }, 90_000);

    it('should read a TTY container raw, without carriage returns', async () => {
      h = await startMonitor(c);
      const container = await c.run('seq 1 500', { tty: true });
      await waitExited(container);
      await h.intake.waitFor(500, 30_000);
      expect(linesOf(h.intake.records, container.id, 'stdout')).toEqual(
        range('', 500, 1),
      );
    });

    it('should merge lines Docker split into 16 KiB partials, on both streams', async () => {
      h = await startMonitor(c);
      const container = await c.run(
        `awk 'BEGIN{s="x"; while(length(s)<40000) s=s s; s=substr(s,1,40000); for(j=0;j<3;j++){s=s "x"; print j s; print j s > "/dev/stderr"; print "short" j}; printf "tail-no-newline"}'`,
      );
      await waitExited(container);
      await h.intake.waitFor(3 * 3 + 1, 30_000);
      const out = linesOf(h.intake.records, container.id, 'stdout');
      const err = linesOf(h.intake.records, container.id, 'stderr');
      expect(out.map((l) => l.length)).toEqual([
        40002, 6, 40003, 6, 40004, 6, 15,
      ]);
      expect(out[0]).toBe(`0${'x'.repeat(40001)}`);
      expect(out.at(-1)).toBe('tail-no-newline');
      expect(err.map((l) => l.length)).toEqual([40002, 40003, 40004]);
    }, 90_000);

    it('should pass binary output through without losing lines', async () => {
      h = await startMonitor(c);
      const container = await c.run(
        `i=0; while [ $i -lt 50 ]; do printf 'b%d\\000\\001\\377\\376end\\n' $i; i=$((i+1)); done`,
      );
      await waitExited(container);
      await h.intake.waitFor(50, 30_000);
      const lines = linesOf(h.intake.records, container.id);
      expect(lines).toHaveLength(50);
      lines.forEach((line, i) => {
        expect(line).toBe(`b${i}\u0000\u0001\ufffd\ufffdend`);
      });
    });
  });
});
