import { skipWithout } from '@lc/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from './container-helpers.js';
import {
  ContainerCase,
  linesOf,
  openFds,
  range,
  startMonitor,
  waitExited,
  waitUntil,
} from './container-helpers.js';

const LONG = process.env.LC_LONG_TESTS === '1';
const SECONDS = LONG ? 120 : 20;
const CONTAINERS = 10;
const PER_SECOND = 100; // per container: 1,000 lines/s in total

/** Prints `PER_SECOND` numbered lines per second in bursts of ten. */
function burstCmd(prefix: string, seconds: number): string {
  const bursts = (seconds * PER_SECOND) / 10;
  return `i=0; while [ $i -lt ${bursts} ]; do awk -v s=$i 'BEGIN{for(k=0;k<10;k++) print "${prefix}" s*10+k}'; i=$((i+1)); sleep 0.1; done`;
}

const handles = (): number => process.getActiveResourcesInfo().length;

describe.skipIf(await skipWithout('docker'))('createContainerMonitor', () => {
  const c = new ContainerCase();
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.monitor.shutdown();
    h = undefined;
    await c.cleanup();
  });

  describe('start', () => {
    it(
      `should rotate streams every second for ${SECONDS} s without gap, duplicate or handle growth`,
      async () => {
        const containers = await Promise.all(
          Array.from({ length: CONTAINERS }, (_, k) =>
            c.run(burstCmd(`c${k}-`, SECONDS), { start: false }),
          ),
        );
        const baseFds = openFds();
        const baseHandles = handles();
        const registry = new Registry();
        h = await startMonitor(c, { streamRotationMs: 1_000, registry });
        const { monitor, intake } = h;
        await Promise.all(containers.map((x) => x.start()));
        const samples: Array<{ fds: number; handles: number }> = [];
        const expected = CONTAINERS * SECONDS * PER_SECOND;
        await waitUntil(
          async () => {
            samples.push({ fds: openFds(), handles: handles() });
            await new Promise((r) => setTimeout(r, 200));
            return intake.records.length >= expected;
          },
          SECONDS * 1000 + 90_000,
          `${expected} lines`,
        );
        await Promise.all(containers.map(waitExited));
        await new Promise((r) => setTimeout(r, 500));

        for (const [k, container] of containers.entries()) {
          expect(linesOf(intake.records, container.id)).toEqual(
            range(`c${k}-`, SECONDS * PER_SECOND),
          );
        }
        const rotations = monitor
          .status()
          .reduce((sum, s) => sum + s.rotations, 0);
        expect(rotations).toBeGreaterThanOrEqual(CONTAINERS * (SECONDS / 2));
        // Each reopen replayed its boundary entry (since is inclusive) and
        // dropped it: the dedup path really ran.
        const dropped = await registry
          .getSingleMetric('lc_container_boundary_duplicates_dropped_total')
          ?.get();
        expect(dropped?.values[0]?.value ?? 0).toBeGreaterThan(0);

        // Open streams: one socket each plus the events stream. While a
        // stream rotates, its successor opens before it closes (no gap), and
        // the engine API calls of a rotation (inspect, logs) use sockets of
        // their own that a loaded machine closes late: up to a few per
        // container at once (40 above baseline were seen in a CI run under
        // load). A leak grows with every rotation (200 of them here): far
        // past this bound, and caught by the early/late comparison below.
        const maxFds = Math.max(...samples.map((s) => s.fds));
        expect(maxFds - baseFds).toBeLessThanOrEqual(4 * CONTAINERS + 10);
        const quarter = Math.max(1, Math.floor(samples.length / 4));
        const early = Math.max(...samples.slice(0, quarter).map((s) => s.fds));
        const late = Math.max(...samples.slice(-quarter).map((s) => s.fds));
        expect(late).toBeLessThanOrEqual(early + 3);

        await monitor.shutdown();
        await waitUntil(
          () => openFds() <= baseFds + 2,
          5_000,
          'fds back to baseline',
        );
        await waitUntil(
          () => handles() <= baseHandles + 2,
          5_000,
          'handles back to baseline',
        );
      },
      (SECONDS + 180) * 1000,
    );

    it('should resume after a shutdown and restart with no gap and no duplicate', async () => {
      const first = await startMonitor(c);
      h = first;
      const container = await c.run(burstCmd('s-', 6));
      await first.intake.waitFor(150, 30_000);
      await first.monitor.shutdown();
      const before = linesOf(first.intake.records, container.id);
      await new Promise((r) => setTimeout(r, 1_000));
      h = await startMonitor(c, {}, first.positions);
      await waitExited(container);
      await waitUntil(
        () =>
          before.length + linesOf(h!.intake.records, container.id).length >=
          600,
        30_000,
        '600 lines',
      );
      await new Promise((r) => setTimeout(r, 500));
      expect([...before, ...linesOf(h.intake.records, container.id)]).toEqual(
        range('s-', 600),
      );
    }, 90_000);
  });
});
