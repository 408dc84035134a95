// Kubelet rotation, compression and pod deletion, on real files: the
// test's rotator does what the kubelet's container log manager does
// (compress the rotated files not compressed yet through a `.tmp`, rename
// the live file to `<n>.log.<YYYYMMDD-hhmmss>`, create a new one, remove
// the oldest past max files), and pods are deleted with their directory.
import { appendFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FilePosition } from '@lc/core';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/file-harness.js';
import {
  counterValue,
  kubernetesHarness,
} from '../../test/kubernetes-harness.js';
import type { KubernetesHarness } from '../../test/kubernetes-harness.js';
import { nextTime } from '../../test/kubelet-node.js';

const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `line ${from + i}`);

/** Each of `want` exactly once in `got`, nothing else. */
function expectOnce(got: readonly string[], want: readonly string[]): void {
  const seen = new Map<string, number>();
  for (const l of got) seen.set(l, (seen.get(l) ?? 0) + 1);
  const lost = want.filter((l) => !seen.has(l));
  const dup = [...seen].filter(([, n]) => n > 1).map(([l]) => l);
  expect({ lost: lost.slice(0, 5), dup: dup.slice(0, 5) }).toEqual({
    lost: [],
    dup: [],
  });
  expect(got.length).toBe(want.length);
}

let h: KubernetesHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('createKubernetesMonitor', () => {
  describe('rotation', () => {
    it('should read every line once across kubelet rotations, compressed generations included', async () => {
      h = await kubernetesHarness();
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      await h.monitor.start();
      let n = 0;
      for (let round = 0; round < 8; round++) {
        c.write(range(n, n + 300));
        n += 300;
        // Half the rotations land before the monitor saw the lines
        // (generations it finds rotated, or already compressed).
        if (round % 2 === 0) await h.intake.waitFor(n);
        c.rotate(10);
      }
      c.write(range(n, n + 100));
      n += 100;
      await h.intake.waitFor(n, 20_000);
      await h.monitor.flush();
      expectOnce(h.lines(), range(0, n));
    });

    it('should finish a rotated file compressed before it was read to its end from the .gz, at the committed offset', async () => {
      h = await kubernetesHarness({}, { autoCommit: false });
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      c.write(range(0, 1000));
      await h.monitor.start();
      await h.intake.waitFor(1000);
      // Only the first 400 were delivered (acknowledged) before the stop.
      h.commit(h.intake.records.slice(0, 400));
      h = await h.restart({}, { autoCommit: true });
      // While down: rotated, written, rotated again (the first rotated
      // file is compressed and removed), twice more.
      c.rotate(10);
      c.write(range(1000, 1200));
      c.rotate(10);
      c.write(range(1200, 1300));
      c.rotate(10);
      c.write(range(1300, 1350));
      await h.monitor.start();
      await h.intake.waitFor(950);
      await h.monitor.flush();
      expectOnce(h.lines(), range(400, 1350));
      expect(
        await counterValue(h.registry, 'lc_file_rotations_total', {
          kind: 'compressed',
        }),
      ).toBe(1);
      expect(h.logs.map((l) => l.msg)).toContain(
        'file monitor: finishing a generation from its compressed copy',
      );
    });
  });

  describe('restart', () => {
    it('should resume a compressed generation read to its end but not acknowledged to it', async () => {
      h = await kubernetesHarness();
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      c.write(range(0, 100));
      await h.monitor.start();
      await h.intake.waitFor(100);
      h = await h.restart({}, { autoCommit: false });
      // Down for two rotations: the file is compressed with 50 lines unread.
      c.write(range(100, 150));
      c.rotate(10);
      c.write(range(150, 160));
      c.rotate(10);
      await h.monitor.start();
      await h.intake.waitFor(60);
      await eventually(
        () =>
          h!.monitor
            .status()
            .some((s) => s.path.endsWith('.gz') && s.state === 'completed'),
        'the .gz read to its end',
      );
      // Stopped with only part of it acknowledged (a kill, or a sink down).
      h.commit(h.intake.records.filter((r) => Number(r.line.slice(5)) < 120));
      h = await h.restart({}, { autoCommit: true });
      await h.monitor.start();
      await h.intake.waitFor(30);
      await h.monitor.flush();
      expectOnce(
        h.lines().filter((l) => Number(l.slice(5)) < 150),
        range(120, 150),
      );
    });

    it('should finish from its .gz a rotated file stopped while draining, whatever size was saved', async () => {
      h = await kubernetesHarness({ rotatedFileGraceMs: 60_000 });
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      c.write(range(0, 100));
      await h.monitor.start();
      await h.intake.waitFor(100);
      c.rotate(10);
      await eventually(
        () => h!.monitor.status().some((s) => s.state === 'rotated'),
        'the rotation seen',
      );
      // Late writes to the renamed file, read and acknowledged past the
      // size saved when the rotation was seen.
      const rotated = readdirSync(c.dir).find((n) => /\.log\.\d/.test(n));
      const late = (from: number, to: number) =>
        appendFileSync(
          join(c.dir, rotated as string),
          range(from, to)
            .map((m) => `${nextTime()} stdout F ${m}\n`)
            .join(''),
        );
      late(100, 150);
      await h.intake.waitFor(150);
      h = await h.restart();
      // While down: more late writes, then the file is compressed.
      late(150, 180);
      c.rotate(10);
      await h.monitor.start();
      await h.intake.waitFor(30);
      await h.monitor.flush();
      expectOnce(h.lines(), range(150, 180));
    });

    it('should read a compressed generation whole when its inode has the position of another file', async () => {
      h = await kubernetesHarness();
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      c.write(range(0, 10));
      await h.monitor.start();
      await h.intake.waitFor(10);
      h = await h.restart();
      // While down: three rotations; the first two generations are
      // compressed, the second one never seen.
      c.write(range(10, 60));
      c.rotate(10);
      c.write(range(60, 70));
      c.rotate(10);
      c.write(range(70, 80));
      c.rotate(10);
      // The unseen .gz took the inode of a file that is gone, whose
      // position is still saved (read to offset 500 of other content).
      const gz = readdirSync(c.dir)
        .filter((n) => n.endsWith('.gz'))
        .sort()
        .at(-1) as string;
      const st = statSync(join(c.dir, gz), { bigint: true });
      h.positions.upsertFile({
        kind: 'file',
        id: `${st.dev}:${st.ino}`,
        path: join(c.dir, gz),
        dev: String(st.dev),
        ino: String(st.ino),
        fingerprint: 'f'.repeat(32),
        fingerprintBytes: 1024,
        offset: 500,
        offsetMarker: '',
        size: 100_000,
        mtimeMs: 0,
        lastReadAtMs: 0,
        logCount: 7,
        bytesRead: 500,
        status: 'completed',
        updatedAtMs: Date.now(),
      });
      await h.monitor.start();
      await h.intake.waitFor(70);
      await h.monitor.flush();
      expectOnce(h.lines(), range(10, 80));
    });
  });

  describe('pod deletion', () => {
    it('should drain the files of a deleted pod held open under backpressure before finishing them', async () => {
      h = await kubernetesHarness({}, { highWaterMark: 100 });
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      c.write(range(0, 2000));
      await h.monitor.start();
      await h.intake.waitFor(100);
      const id = h.intake.records[0]?.source.id as string;
      // The pod is deleted with most of its log unread.
      rmSync(dirname(dirname(c.path)), { recursive: true });
      await eventually(() => {
        h!.intake.take();
        return h!.intake.records.length >= 2000;
      }, 'the deleted pod drained');
      await h.monitor.flush();
      expectOnce(h.lines(), range(0, 2000));
      await eventually(
        () =>
          (h!.positions.get('file', id) as FilePosition).status === 'deleted',
        'the position marked deleted',
      );
      expect(h.positions.get('file', id)).toMatchObject({
        status: 'deleted',
        offset: h.intake.records.at(-1)?.cursor
          ? (h.intake.records.at(-1)?.cursor as { offset: number }).offset
          : -1,
      });
      expect(await counterValue(h.registry, 'lc_file_unread_bytes_total')).toBe(
        0,
      );
    });

    it('should retire the position of a pod deleted while down, counting what was not read', async () => {
      h = await kubernetesHarness({}, { autoCommit: false });
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      c.write(range(0, 10));
      await h.monitor.start();
      await h.intake.waitFor(10);
      h.commit(h.intake.records.slice(0, 5));
      const id = h.intake.records[0]?.source.id as string;
      h = await h.restart({}, { autoCommit: true });
      rmSync(dirname(dirname(c.path)), { recursive: true });
      await h.monitor.start();
      expect(h.positions.get('file', id)).toMatchObject({ status: 'deleted' });
      expect(
        await counterValue(h.registry, 'lc_file_errors_total', {
          kind: 'deleted-unread',
        }),
      ).toBe(1);
      expect(h.logs.map((l) => l.msg)).toContain(
        'file monitor: a file was deleted while the monitor was down',
      );
    });
  });
});
