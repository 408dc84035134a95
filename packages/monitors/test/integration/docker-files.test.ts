import { execFileSync } from 'node:child_process';
import type { LogRecord } from '@lc/core';
import type { CollectingIntake } from '@lc/core/testing';
import { createCollectingIntake } from '@lc/core/testing';
import type { PositionManager } from '@lc/positions';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import { skipWithout } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  DockerFilesMonitor,
  DockerFilesMonitorOptions,
} from '../../src/index.js';
import { createDockerFilesMonitor } from '../../src/index.js';
import {
  ContainerCase,
  docker,
  env,
  range,
  waitUntil,
} from './container-helpers.js';

/**
 * The Docker files mode against the real engine with the json-file driver:
 * logs read from /var/lib/docker/containers (this machine's data root),
 * checked line by line against `docker logs` or the lines each container
 * was told to print.
 */

interface FilesHarness {
  monitor: DockerFilesMonitor;
  intake: CollectingIntake;
  positions: PositionManager;
}

async function startFiles(
  c: ContainerCase,
  extra: Partial<DockerFilesMonitorOptions> = {},
): Promise<FilesHarness> {
  const positions = createPositionManager({
    store: createMemoryPositionStore(),
  });
  await positions.start();
  const intake = createCollectingIntake({ autoCommit: positions });
  const monitor = createDockerFilesMonitor({
    intake,
    positions,
    filters: { includeLabels: [`lc-case=${c.caseId}`] },
    ...extra,
  });
  await monitor.start();
  return { monitor, intake, positions };
}

function linesOfContainer(
  records: readonly LogRecord[],
  id: string,
  stream?: string,
): string[] {
  return records
    .filter(
      (r) =>
        r.labels.container_id === id &&
        (stream === undefined || r.labels.stream === stream),
    )
    .map((r) => r.line);
}

/** The engine's own record of a container's output, per stream. */
function engineLines(id: string): { stdout: string[]; stderr: string[] } {
  const split = (s: string) =>
    s === '' ? [] : s.replace(/\n$/, '').split('\n');
  const out = execFileSync('docker', ['logs', id], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const err = execFileSync('sh', ['-c', `docker logs ${id} 2>&1 >/dev/null`], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return { stdout: split(out), stderr: split(err) };
}

async function runContainer(
  c: ContainerCase,
  cmd: string,
  hostConfig: Record<string, unknown> = {},
  name?: string,
): Promise<string> {
  const container = await docker.createContainer({
    Image: env.dockerTestImage,
    Cmd: ['sh', '-c', cmd],
    ...(name === undefined ? {} : { name }),
    Labels: { 'lc-test': 'monitors', 'lc-case': c.caseId },
    HostConfig: {
      NetworkMode: 'none',
      LogConfig: { Type: 'json-file', Config: {} },
      ...hostConfig,
    },
  });
  c.ids.push(container.id);
  await container.start();
  return container.id;
}

describe.skipIf(await skipWithout('docker'))('createDockerFilesMonitor', () => {
  const c = new ContainerCase();
  let h: FilesHarness | undefined;
  afterEach(async () => {
    await h?.monitor.shutdown();
    h = undefined;
    await c.cleanup();
  });

  describe('start', () => {
    it('should read json-file logs line by line as docker logs shows them, with times, streams, names and joined 16 KiB partials', async () => {
      h = await startFiles(c);
      const n = 5_000;
      const name = `lc-df-${c.caseId}`;
      // A 40,000-character line: Docker writes it as three partial entries.
      const id = await runContainer(
        c,
        `awk 'BEGIN{for(i=0;i<${n};i++){print "out" i; print "err" i > "/dev/stderr"}; s=""; for(k=0;k<40000;k++) s=s "x"; print "long" s; printf "last-without-newline"}'`,
        {},
        name,
      );
      await docker.getContainer(id).wait();
      const engine = engineLines(id);
      expect(engine.stdout.length).toBe(n + 2);
      await waitUntil(
        () =>
          linesOfContainer(h!.intake.records, id, 'stdout').length >= n + 1 &&
          linesOfContainer(h!.intake.records, id, 'stderr').length >= n,
        60_000,
        'lines',
      );
      const records = h.intake.records;
      // The last line has no newline: held until the file ends (removal).
      expect(linesOfContainer(records, id, 'stdout')).toEqual(
        engine.stdout.slice(0, -1),
      );
      expect(linesOfContainer(records, id, 'stderr')).toEqual(engine.stderr);
      const first = records.find(
        (r) => r.labels.container_id === id && r.labels.stream === 'stdout',
      );
      expect(first?.labels).toMatchObject({
        source: 'container',
        container_name: name,
        image: env.dockerTestImage,
        stream: 'stdout',
      });
      // The record time is Docker's own (docker logs -t shows it).
      const stamped = execFileSync('docker', ['logs', '-t', id], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).split('\n')[0] as string;
      const iso = stamped.slice(0, stamped.indexOf(' '));
      const nanos = Number(
        (iso.split('.')[1] ?? '0').replace('Z', '').padEnd(9, '0'),
      );
      expect(first?.timestampMs).toBe(
        Date.parse(iso.slice(0, 19) + 'Z') + Math.floor(nanos / 1e6),
      );
      expect(first?.timestampNanos).toBe(nanos % 1e6);
      // Removed: the unterminated last line ends its file and comes out.
      await docker.getContainer(id).remove();
      await waitUntil(
        () =>
          linesOfContainer(h!.intake.records, id, 'stdout').length === n + 2,
        30_000,
        'the last line',
      );
      expect(linesOfContainer(h.intake.records, id, 'stdout')).toEqual(
        engine.stdout,
      );
    }, 120_000);

    it('should read every line across json-file rotations (max-size, max-file)', async () => {
      h = await startFiles(c);
      const n = 20_000;
      const id = await runContainer(
        c,
        `awk 'BEGIN{for(i=0;i<${n};i++){print "r" i; if (i % 500 == 0) system("sleep 0.2")}}'`,
        {
          LogConfig: {
            Type: 'json-file',
            // ~9 rotations, a generation deleted ~3 rotations after it was renamed.
            Config: { 'max-size': '200k', 'max-file': '3' },
          },
        },
      );
      await docker.getContainer(id).wait();
      await waitUntil(
        () => linesOfContainer(h!.intake.records, id).length >= n,
        60_000,
        `${n} lines`,
      ).catch(() => undefined);
      expect(linesOfContainer(h.intake.records, id)).toEqual(range('r', n));
      // Docker kept only the last generations; lc read them all.
      expect(engineLines(id).stdout.length).toBeLessThan(n);
    }, 120_000);

    it('should capture every line of 50 --rm containers that print 1-1,000 lines and exit at once', async () => {
      h = await startFiles(c);
      const counts = Array.from({ length: 50 }, (_, k) =>
        k === 0 ? 1 : k === 1 ? 1000 : 1 + ((k * 337) % 1000),
      );
      const ids = await Promise.all(
        counts.map((n, k) =>
          runContainer(
            c,
            `i=0; while [ $i -lt ${n} ]; do echo "r${k}-$i"; i=$((i+1)); done`,
            { AutoRemove: true },
          ),
        ),
      );
      const total = counts.reduce((a, b) => a + b, 0);
      await waitUntil(
        async () =>
          (
            await docker.listContainers({
              all: true,
              filters: { label: [`lc-case=${c.caseId}`] },
            })
          ).length === 0,
        60_000,
        'containers removed',
      );
      await h.intake.waitFor(total, 60_000).catch(() => undefined);
      const wrong = ids.flatMap((id, k) => {
        const got = linesOfContainer(h!.intake.records, id);
        const want = range(`r${k}-`, counts[k] as number);
        return JSON.stringify(got) === JSON.stringify(want)
          ? []
          : [`container ${k}: ${got.length} of ${want.length} lines`];
      });
      expect(wrong).toEqual([]);
      expect(h.intake.records.length).toBe(total);
    }, 180_000);
  });
});
