import { createCollectingIntake } from '@lc/core/testing';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import { skipWithout } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerMonitor } from '../../src/index.js';
import { createContainerMonitor } from '../../src/index.js';
import type { Harness } from './container-helpers.js';
import {
  ContainerCase,
  docker,
  linesOf,
  range,
  startMonitor,
  waitExited,
  waitUntil,
} from './container-helpers.js';

describe.skipIf(await skipWithout('docker'))('createContainerMonitor', () => {
  const c = new ContainerCase();
  let h: Harness | undefined;
  let extra: ContainerMonitor | undefined;
  afterEach(async () => {
    await h?.monitor.shutdown();
    await extra?.shutdown();
    h = undefined;
    extra = undefined;
    await c.cleanup();
  });

  describe('start', () => {
    it('should apply name/label filters, the self guard and build metadata labels', async () => {
      const keep = await c.run('seq 1 20', {
        start: false,
        name: `lc-cm-${c.caseId}-keep`,
        labels: {
          'com.docker.compose.service': 'web',
          'com.docker.compose.project': 'shop',
          'com.example.team': 'core',
        },
      });
      const skipByName = await c.run('seq 1 20', {
        start: false,
        name: `lc-cm-${c.caseId}-skip`,
      });
      const skipByLabel = await c.run('seq 1 20', {
        start: false,
        labels: { 'lc-skip': '1' },
      });
      const self = await c.run('seq 1 20', { start: false });
      h = await startMonitor(c, {
        filters: {
          ...c.filters,
          excludeNames: ['*-skip'],
          excludeLabels: ['lc-skip=1'],
          includeImages: ['lc-test/*'],
        },
        labelAllowList: ['com.example.team'],
        labels: { env: 'test' },
        selfContainerId: self.id.slice(0, 12),
      });
      const all = [keep, skipByName, skipByLabel, self];
      await Promise.all(all.map((x) => x.start()));
      await Promise.all(all.map(waitExited));
      await h.intake.waitFor(20, 30_000);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(new Set(h.intake.records.map((r) => r.source.id))).toEqual(
        new Set([keep.id]),
      );
      expect(linesOf(h.intake.records, keep.id)).toEqual(range('', 20, 1));
      expect(h.intake.records[0]?.labels).toEqual({
        env: 'test',
        source: 'container',
        container_id: keep.id,
        container_name: `lc-cm-${c.caseId}-keep`,
        image: 'lc-test/busybox',
        compose_service: 'web',
        compose_project: 'shop',
        com_example_team: 'core',
        stream: 'stdout',
      });
      const status = h.monitor.status();
      expect(status.find((s) => s.id === self.id)?.excluded).toBe('self');
      expect(status.find((s) => s.id === skipByName.id)?.excluded).toBe(
        'filter',
      );
      expect(h.positions.get('container', self.id)).toBeUndefined();
    });

    it('should pause reading while the intake is full and lose nothing', async () => {
      const positions = createPositionManager({
        store: createMemoryPositionStore(),
      });
      await positions.start();
      const intake = createCollectingIntake({
        highWaterMark: 100,
        autoCommit: positions,
      });
      extra = createContainerMonitor({
        intake,
        positions,
        docker,
        filters: c.filters,
      });
      await extra.start();
      const n = 30_000;
      const container = await c.run(`seq 1 ${n}`);
      await waitExited(container);
      await new Promise((r) => setTimeout(r, 1_500));
      // Nothing taken yet: the stream must have stopped well short of the end.
      expect(intake.records.length).toBeLessThan(n);
      expect(intake.records.length).toBeGreaterThanOrEqual(100);
      await waitUntil(
        () => {
          intake.take();
          return intake.records.length >= n;
        },
        60_000,
        'all lines',
      );
      expect(linesOf(intake.records, container.id)).toEqual(range('', n, 1));
    });

    it('should stop capturing a container that floods the pipeline (feedback guard)', async () => {
      h = await startMonitor(c, {
        feedbackGuard: { maxShare: 0.8, windowMs: 300, minLines: 200 },
      });
      const quiet = await c.run(
        'i=0; while [ $i -lt 100 ]; do echo q$i; i=$((i+1)); sleep 0.05; done',
      );
      await h.intake.waitFor(3, 30_000);
      const noisy = await c.run('yes flood');
      await waitUntil(
        () =>
          h!.monitor.status().find((s) => s.id === noisy.id)?.excluded ===
          'feedback',
        30_000,
        'noisy excluded',
      );
      await waitExited(quiet);
      await waitUntil(
        () => linesOf(h!.intake.records, quiet.id).length >= 100,
        30_000,
        'quiet',
      );
      expect(linesOf(h.intake.records, quiet.id)).toEqual(range('q', 100));
      const floodBefore = linesOf(h.intake.records, noisy.id).length;
      await new Promise((r) => setTimeout(r, 500));
      expect(linesOf(h.intake.records, noisy.id).length).toBe(floodBefore);
    });
  });
});
