import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { LogRecord } from '@lc/core';
import type { CollectingIntake } from '@lc/core/testing';
import { createCollectingIntake } from '@lc/core/testing';
import type { PositionManager } from '@lc/positions';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import { serviceEnv } from '@lc/test-utils';
import Dockerode from 'dockerode';
import type {
  ContainerMonitor,
  ContainerMonitorOptions,
} from '../../src/index.js';
import { createContainerMonitor } from '../../src/index.js';

export const env = serviceEnv();
export const docker = new Dockerode({
  socketPath: env.dockerSocket ?? '/var/run/docker.sock',
});

/** Containers of one test case: labelled, network-less, removed by `cleanup`. */
export class ContainerCase {
  readonly caseId = randomUUID().slice(0, 8);
  readonly ids: string[] = [];

  async run(
    cmd: string,
    options: {
      tty?: boolean;
      name?: string;
      restart?: boolean;
      start?: boolean;
      labels?: Record<string, string>;
    } = {},
  ): Promise<Dockerode.Container> {
    const container = await docker.createContainer({
      Image: env.dockerTestImage,
      Cmd: ['sh', '-c', cmd],
      Tty: options.tty ?? false,
      ...(options.name === undefined ? {} : { name: options.name }),
      Labels: {
        ...options.labels,
        'lc-test': 'monitors',
        'lc-case': this.caseId,
      },
      HostConfig: {
        NetworkMode: 'none',
        ...(options.restart === true
          ? { RestartPolicy: { Name: 'always' } }
          : {}),
      },
    });
    this.ids.push(container.id);
    if (options.start !== false) await container.start();
    return container;
  }

  /** Filters that capture only this case's containers. */
  get filters(): ContainerMonitorOptions['filters'] {
    return { includeLabels: [`lc-case=${this.caseId}`] };
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(
      this.ids.map((id) => docker.getContainer(id).remove({ force: true })),
    );
    this.ids.length = 0;
  }
}

export interface Harness {
  monitor: ContainerMonitor;
  intake: CollectingIntake;
  positions: PositionManager;
}

export async function startMonitor(
  c: ContainerCase,
  extra: Partial<ContainerMonitorOptions> = {},
  positions?: PositionManager,
): Promise<Harness> {
  const pm =
    positions ??
    createPositionManager({
      store: createMemoryPositionStore(),
    });
  if (positions === undefined) await pm.start();
  const intake = createCollectingIntake({ autoCommit: pm });
  const monitor = createContainerMonitor({
    intake,
    positions: pm,
    docker,
    filters: c.filters,
    ...extra,
  });
  await monitor.start();
  return { monitor, intake, positions: pm };
}

export function linesOf(
  records: readonly LogRecord[],
  id: string,
  stream?: string,
): string[] {
  return records
    .filter(
      (r) =>
        r.source.id === id &&
        (stream === undefined || r.labels.stream === stream),
    )
    .map((r) => r.line);
}

export function range(prefix: string, n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i + from}`);
}

export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function waitExited(
  container: Dockerode.Container,
): Promise<void> {
  await container.wait();
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export function socketHandles(): number {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r === 'PipeWrap' || r === 'TCPSocketWrap' || r === 'Timeout')
    .length;
}
