import { PassThrough, Readable } from 'node:stream';
import { createCollectingIntake } from '@lc/core/testing';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import type Dockerode from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerMonitor } from './container-monitor.js';
import { createContainerMonitor } from './container-monitor.js';

const ID = 'c0ffee'.padEnd(64, '0');
const BASE_NS = 1_763_900_000_000_000_000n;

interface Entry {
  readonly stream: 1 | 2;
  readonly ns: bigint;
  readonly line: string;
}

interface LogsCall {
  readonly follow: boolean;
  readonly since: string | undefined;
  readonly isStream: boolean;
}

/**
 * A Docker engine that behaves like the real one (20.10, json-file) when
 * a container exits under a follow reader: the follow stream ends cleanly
 * after `followLimit` entries although the log holds more. A read without
 * follow always returns every entry at or after `since`, in log order.
 */
function fakeEngine(log: readonly Entry[], followLimit: number) {
  let running = true;
  const calls: LogsCall[] = [];
  const events = new PassThrough();
  const docker = {
    getEvents: () => Promise.resolve(events),
    listContainers: () =>
      Promise.resolve([{ Id: ID, State: running ? 'running' : 'exited' }]),
    getContainer: () => ({
      id: ID,
      inspect: () =>
        Promise.resolve({
          Id: ID,
          Name: '/app',
          Config: { Image: 'img', Labels: {}, Tty: false },
          State: { Running: running, Paused: false },
        }),
      // What dockerode's Container.logs calls, there with isStream: follow.
      modem: {
        dial: (
          req: {
            isStream: boolean;
            options: { follow: boolean; since?: string };
          },
          callback: (error: unknown, data: unknown) => void,
        ) => {
          const { follow, since } = req.options;
          calls.push({ follow, since, isStream: req.isStream });
          const sinceNs =
            since === undefined ? 0n : BigInt(since.replace('.', ''));
          let out = log.filter((e) => e.ns >= sinceNs);
          if (follow) {
            out = out.slice(0, followLimit);
            running = false; // it exits while this stream is being read
          }
          callback(null, Readable.from(out.map(frame)));
        },
      },
    }),
  };
  return {
    docker: docker as unknown as Dockerode,
    calls,
    close: () => events.destroy(),
  };
}

function frame(e: Entry): Buffer {
  const ms = Number(e.ns / 1_000_000n);
  const frac = String(e.ns % 1_000_000_000n).padStart(9, '0');
  const ts = `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
  const body = Buffer.from(`${ts} ${e.line}\n`);
  const header = Buffer.alloc(8);
  header[0] = e.stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/**
 * n lines per stream, stdout and stderr alternating, stamped 10 µs apart;
 * every 7th stderr entry carries an earlier stamp than the stdout entry
 * before it (two goroutines stamp the two streams).
 */
function interleavedLog(n: number): Entry[] {
  const log: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const t = BASE_NS + BigInt(i) * 20_000n;
    log.push({ stream: 1, ns: t + 10_000n, line: `o${i}` });
    const skew = i % 7 === 0 ? 15_000n : 0n;
    log.push({ stream: 2, ns: t + 20_000n - skew, line: `e${i}` });
  }
  return log;
}

function linesOf(
  records: readonly { line: string; labels: { stream?: string } }[],
  stream: string,
): string[] {
  return records.filter((r) => r.labels.stream === stream).map((r) => r.line);
}

describe('createContainerMonitor', () => {
  let monitor: ContainerMonitor | undefined;
  let close: (() => void) | undefined;
  afterEach(async () => {
    await monitor?.shutdown();
    close?.();
    monitor = undefined;
  });

  describe('start', () => {
    it.each([0, 1, 777, 1999])(
      'should read the rest of the log without follow when a follow stream ends after %i entries as the container stops',
      async (followLimit) => {
        const n = 1000;
        const engine = fakeEngine(interleavedLog(n), followLimit);
        close = engine.close;
        const positions = createPositionManager({
          store: createMemoryPositionStore(),
        });
        const intake = createCollectingIntake({ autoCommit: positions });
        monitor = createContainerMonitor({
          intake,
          positions,
          docker: engine.docker,
        });
        await monitor.start();
        await intake.waitFor(2 * n, 10_000);
        // Nothing more arrives, and the last read was one without follow.
        await new Promise((r) => setTimeout(r, 100));
        expect(intake.records).toHaveLength(2 * n);
        const range = (p: string) =>
          Array.from({ length: n }, (_, i) => `${p}${i}`);
        expect(linesOf(intake.records, 'stdout')).toEqual(range('o'));
        expect(linesOf(intake.records, 'stderr')).toEqual(range('e'));
        expect(engine.calls.at(-1)).toMatchObject({
          follow: false,
          isStream: true,
        });
      },
    );
  });
});
