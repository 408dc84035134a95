import type { LogRecord } from '@lc/core';
import { createCollectingIntake } from '@lc/core/testing';
import type { PositionManager } from '@lc/positions';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import { skipWithout } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createContainerMonitor,
  createDockerFilesMonitor,
} from '../../src/index.js';
import {
  ContainerCase,
  docker,
  env,
  range,
  waitUntil,
} from './container-helpers.js';

/**
 * Switching `sources.docker.mode` with a real json-file container: what
 * one mode committed, the other neither reads again nor skips. The
 * container prints a first batch, waits for a trigger (docker exec), then
 * prints a second batch while the other mode reads.
 */

const DATA_ROOT = '/var/lib/docker';

async function phasedContainer(c: ContainerCase, n: number): Promise<string> {
  const container = await docker.createContainer({
    Image: env.dockerTestImage,
    Cmd: [
      'sh',
      '-c',
      `i=0; while [ $i -lt ${n} ]; do echo "l$i"; echo "e$i" >&2; i=$((i+1)); done; while [ ! -f /tmp/go ]; do sleep 0.05; done; while [ $i -lt ${2 * n} ]; do echo "l$i"; echo "e$i" >&2; i=$((i+1)); done; sleep 600`,
    ],
    Labels: { 'lc-test': 'monitors', 'lc-case': c.caseId },
    HostConfig: {
      NetworkMode: 'none',
      LogConfig: { Type: 'json-file', Config: {} },
    },
  });
  c.ids.push(container.id);
  await container.start();
  return container.id;
}

async function trigger(id: string): Promise<void> {
  const exec = await docker
    .getContainer(id)
    .exec({ Cmd: ['sh', '-c', ': > /tmp/go'], AttachStdout: false });
  await exec.start({ Detach: true });
}

function lines(
  records: readonly LogRecord[],
  id: string,
  stream: string,
): string[] {
  return records
    .filter((r) => r.labels.container_id === id && r.labels.stream === stream)
    .map((r) => r.line);
}

describe.skipIf(await skipWithout('docker'))(
  'sources.docker mode switch',
  () => {
    const c = new ContainerCase();
    const stops: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const stop of stops.splice(0)) await stop();
      await c.cleanup();
    });

    async function positionsManager(): Promise<PositionManager> {
      const pm = createPositionManager({ store: createMemoryPositionStore() });
      await pm.start();
      stops.push(() => pm.shutdown());
      return pm;
    }

    it('should neither lose nor re-read a line when switching from api to files', async () => {
      const n = 2_000;
      const pm = await positionsManager();
      const id = await phasedContainer(c, n);
      const filters = { includeLabels: [`lc-case=${c.caseId}`] };
      const apiIntake = createCollectingIntake({ autoCommit: pm });
      const api = createContainerMonitor({
        intake: apiIntake,
        positions: pm,
        docker,
        filters,
      });
      await api.start();
      await waitUntil(
        () =>
          lines(apiIntake.records, id, 'stdout').length >= n &&
          lines(apiIntake.records, id, 'stderr').length >= n,
        60_000,
        'the first batch through the API',
      );
      await api.shutdown();
      const filesIntake = createCollectingIntake({ autoCommit: pm });
      const files = createDockerFilesMonitor({
        intake: filesIntake,
        positions: pm,
        dataRoot: DATA_ROOT,
        filters,
      });
      stops.push(() => files.shutdown());
      await files.start();
      await trigger(id);
      await waitUntil(
        () =>
          lines(filesIntake.records, id, 'stdout').at(-1) === `l${2 * n - 1}` &&
          lines(filesIntake.records, id, 'stderr').at(-1) === `e${2 * n - 1}`,
        60_000,
        'the second batch from the files',
      );
      for (const [stream, prefix] of [
        ['stdout', 'l'],
        ['stderr', 'e'],
      ] as const)
        expect([
          ...lines(apiIntake.records, id, stream),
          ...lines(filesIntake.records, id, stream),
        ]).toEqual(range(prefix, 2 * n));
    }, 120_000);

    it('should neither lose nor re-read a line when switching from files to api', async () => {
      const n = 2_000;
      const pm = await positionsManager();
      const id = await phasedContainer(c, n);
      const filters = { includeLabels: [`lc-case=${c.caseId}`] };
      const filesIntake = createCollectingIntake({ autoCommit: pm });
      const files = createDockerFilesMonitor({
        intake: filesIntake,
        positions: pm,
        dataRoot: DATA_ROOT,
        filters,
      });
      await files.start();
      await waitUntil(
        () =>
          lines(filesIntake.records, id, 'stdout').length >= n &&
          lines(filesIntake.records, id, 'stderr').length >= n,
        60_000,
        'the first batch from the files',
      );
      await files.shutdown();
      const apiIntake = createCollectingIntake({ autoCommit: pm });
      const api = createContainerMonitor({
        intake: apiIntake,
        positions: pm,
        docker,
        filters,
        dataRoot: DATA_ROOT,
      });
      stops.push(() => api.shutdown());
      await api.start();
      await trigger(id);
      await waitUntil(
        () =>
          lines(apiIntake.records, id, 'stdout').at(-1) === `l${2 * n - 1}` &&
          lines(apiIntake.records, id, 'stderr').at(-1) === `e${2 * n - 1}`,
        60_000,
        'the second batch through the API',
      );
      for (const [stream, prefix] of [
        ['stdout', 'l'],
        ['stderr', 'e'],
      ] as const)
        expect([
          ...lines(filesIntake.records, id, stream),
          ...lines(apiIntake.records, id, stream),
        ]).toEqual(range(prefix, 2 * n));
    }, 120_000);
  },
);
