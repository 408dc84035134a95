// Multiline records from pod logs, on real files in the kubelet layout
// (CRI lines written as containerd does, `P` fragments included): Java
// traces joined per stream after the P/F join, a trace cut by a stop read
// again whole, pending traces emitted when the kubelet rotates the file
// and after their flush timeout.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCriLine } from '../index.js';
import {
  counterValue,
  kubernetesHarness,
} from '../../test/kubernetes-harness.js';
import type { KubernetesHarness } from '../../test/kubernetes-harness.js';

/** A Java stack trace whose every line names record `n`. */
function trace(n: number): string[] {
  return [
    `2026-11-23 10:00:00 ERROR [main] c.a.Orders - record ${n} failed`,
    `java.lang.IllegalStateException: record ${n}`,
    `\tat com.acme.Orders.get(Orders.java:${n})`,
    `\tat com.acme.Http.serve(Http.java:${n})`,
    `Caused by: java.io.IOException: record ${n}`,
    `\tat com.acme.Disk.read(Disk.java:${n})`,
    `\t... ${n} more`,
  ];
}

const info = (n: number, stream = 'out') =>
  `2026-11-23 10:00:00 INFO [main] c.a.Orders - ${stream} ${n}`;

const JAVA = { preset: 'java', flushTimeoutMs: 600_000 } as const;

let h: KubernetesHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The records of `stream`, as [text, timestampMs]. */
const of = (h: KubernetesHarness, stream: string) =>
  h.intake.records
    .filter((r) => r.labels['stream'] === stream)
    .map((r) => r.line);

describe('createKubernetesMonitor', () => {
  describe('multiline', () => {
    it("should join each stream's traces after the P/F join, at the time of their first line, while the other stream interleaves", async () => {
      h = await kubernetesHarness({ multiline: JAVA });
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      await h.monitor.start();
      const t = trace(7);
      c.write([info(0)]);
      c.write([t[0] as string, t[1] as string]);
      c.write([info(0, 'err')], { stream: 'stderr' });
      // Long frames cut into P fragments by the runtime.
      c.write(t.slice(2, 4), { fragmentBytes: 10 });
      c.write([info(1, 'err')], { stream: 'stderr', fragmentBytes: 8 });
      c.write(t.slice(4));
      c.write([info(2, 'err')], { stream: 'stderr' });
      c.write([info(1)]);
      // The last line of each stream waits for a next line (the rule);
      // everything before it arrives.
      await h.intake.waitFor(4);
      await h.monitor.flush();
      expect(of(h, 'stdout')).toEqual([info(0), t.join('\n')]);
      expect(of(h, 'stderr')).toEqual([info(0, 'err'), info(1, 'err')]);
      const joined = h.intake.records.find((r) => r.line === t.join('\n'));
      const first = readFileSync(c.path, 'utf8')
        .split('\n')
        .find((l) => l.endsWith(t[0] as string)) as string;
      const cri = parseCriLine(first);
      expect(cri).toBeDefined();
      expect([joined?.timestampMs, joined?.timestampNanos]).toEqual([
        cri?.timestampMs,
        cri?.timestampNanos,
      ]);
      expect(joined?.labels).toMatchObject({
        namespace: 'ns',
        pod: 'p',
        container: 'c',
        stream: 'stdout',
      });
    });

    it('should read a trace cut by a stop again after the start, whole and once', async () => {
      h = await kubernetesHarness({ multiline: JAVA });
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      const t = trace(9);
      c.write([info(0), info(1), ...t.slice(0, 3)]);
      await h.monitor.start();
      // info(1) leaves when the trace's first line is read; the trace is
      // held, not committed.
      await h.intake.waitFor(2);
      h = await h.restart();
      expect(h.intake.records).toEqual([]);
      c.write([...t.slice(3), info(2), info(3)]);
      await h.monitor.start();
      await h.intake.waitFor(2);
      await h.monitor.flush();
      expect(h.lines()).toEqual([t.join('\n'), info(2)]);
    });

    it('should emit a pending trace when the kubelet rotates its file, and after its flush timeout on a live file', async () => {
      h = await kubernetesHarness({
        multiline: { preset: 'java', flushTimeoutMs: 300 },
      });
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      const a = trace(1);
      c.write(a);
      await h.monitor.start();
      // Rotated while the trace waits: the rotated file is finished, its
      // pending record ends with it.
      c.rotate(10);
      await h.intake.waitFor(1);
      expect(h.lines()).toEqual([a.join('\n')]);
      expect(
        await counterValue(h.registry, 'lc_multiline_flushes_total', {
          source: 'kubernetes',
          reason: 'flush',
        }),
      ).toBe(1);
      const b = trace(2);
      c.write(b);
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual([a.join('\n'), b.join('\n')]);
      expect(
        await counterValue(h.registry, 'lc_multiline_flushes_total', {
          source: 'kubernetes',
          reason: 'timeout',
        }),
      ).toBe(1);
    });
  });
});
