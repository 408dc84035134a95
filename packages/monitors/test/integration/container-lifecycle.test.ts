import { execFileSync } from 'node:child_process';
import type { ContainerPosition } from '@lc/core';
import { skipWithout } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from './container-helpers.js';
import {
  ContainerCase,
  linesOf,
  range,
  startMonitor,
  waitExited,
  waitUntil,
} from './container-helpers.js';

/** The engine's own record of a container's output, per stream. */
function engineLines(id: string): { stdout: string[]; stderr: string[] } {
  const split = (s: string) =>
    s === '' ? [] : s.replace(/\n$/, '').split('\n');
  const out = execFileSync('docker', ['logs', id], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const both = execFileSync('sh', ['-c', `docker logs ${id} 2>&1 >/dev/null`], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return { stdout: split(out), stderr: split(both) };
}

// Counts across restarts (the counter lives in the container's filesystem).
const LOOP = `n=$(cat /tmp/n 2>/dev/null || echo 0); while true; do n=$((n+1)); echo $n > /tmp/n; echo "l$n"; echo "e$n" >&2; sleep 0.02; done`;

describe.skipIf(await skipWithout('docker'))('createContainerMonitor', () => {
  const c = new ContainerCase();
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.monitor.shutdown();
    h = undefined;
    await c.cleanup();
  });

  describe('start', () => {
    it('should follow stop/start, restart, rename, pause/unpause and destroy without gap or duplicate', async () => {
      h = await startMonitor(c, { drainMs: 500, destroyedSettleMs: 5_000 });
      const { intake, positions } = h;
      const container = await c.run(LOOP, { name: `lc-cm-${c.caseId}` });
      const id = container.id;
      const count = () => linesOf(intake.records, id, 'stdout').length;
      const grow = async (more: number) => {
        const target = count() + more;
        await waitUntil(() => count() >= target, 30_000, `${target} lines`);
      };
      await grow(20);
      await container.kill();
      await waitUntil(
        () =>
          (positions.get('container', id) as ContainerPosition | undefined)
            ?.status === 'stopped',
        10_000,
        'stopped',
      );
      const stopped = positions.get('container', id);
      expect(
        stopped && 'lastTimestampNs' in stopped && stopped.lastTimestampNs,
      ).not.toBe('');
      await container.start();
      await grow(20);
      await container.restart({ t: 0 });
      await grow(20);
      await container.rename({ name: `lc-cm-${c.caseId}-renamed` });
      await grow(20);
      await container.pause();
      await new Promise((r) => setTimeout(r, 300));
      await container.unpause();
      await grow(20);
      await container.kill();
      await waitExited(container);
      await new Promise((r) => setTimeout(r, 1_000));

      const engine = engineLines(id);
      expect(linesOf(intake.records, id, 'stdout')).toEqual(engine.stdout);
      expect(linesOf(intake.records, id, 'stderr')).toEqual(engine.stderr);
      expect(engine.stdout.length).toBeGreaterThanOrEqual(100);
      const names = new Set(
        intake.records
          .filter((r) => r.source.id === id)
          .map((r) => r.labels.container_name),
      );
      expect(names).toEqual(
        new Set([`lc-cm-${c.caseId}`, `lc-cm-${c.caseId}-renamed`]),
      );
      expect(intake.records.at(-1)?.labels.container_name).toBe(
        `lc-cm-${c.caseId}-renamed`,
      );

      await container.remove({ force: true });
      await waitUntil(
        () => positions.get('container', id) === undefined,
        15_000,
        'position removed',
      );
      expect(h.monitor.status().find((s) => s.id === id)).toBeUndefined();
    }, 90_000);

    it('should capture 50 containers started at once with the pool capped at 20', async () => {
      h = await startMonitor(c, {
        maxConcurrentStreams: 20,
        streamRotationMs: 500,
      });
      const { monitor, intake } = h;
      let maxStreaming = 0;
      let sawQueued = false;
      const sampler = setInterval(() => {
        const s = monitor.status();
        maxStreaming = Math.max(
          maxStreaming,
          s.filter((x) => x.phase === 'streaming').length,
        );
        sawQueued ||= s.some((x) => x.phase === 'queued');
      }, 20);
      try {
        const containers = await Promise.all(
          Array.from({ length: 50 }, (_, k) =>
            c.run(
              `i=0; while [ $i -lt 20 ]; do awk -v s=$i 'BEGIN{for(k=0;k<10;k++) print "p${k}-" s*10+k}'; i=$((i+1)); sleep 0.1; done`,
            ),
          ),
        );
        await Promise.all(containers.map(waitExited));
        await intake.waitFor(50 * 200, 60_000);
        await new Promise((r) => setTimeout(r, 500));
        for (const [k, container] of containers.entries()) {
          expect(linesOf(intake.records, container.id)).toEqual(
            range(`p${k}-`, 200),
          );
        }
      } finally {
        clearInterval(sampler);
      }
      expect(maxStreaming).toBeLessThanOrEqual(20);
      expect(maxStreaming).toBeGreaterThan(0);
      expect(sawQueued).toBe(true);
    }, 180_000);
  });
});
