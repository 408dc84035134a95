import { LcError, WriteResults } from '@lc/core';
import type { Clock, Logger, LogRecord, Sink } from '@lc/core';
import { createFakeClock, createInMemorySink } from '@lc/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createDeadLetterStore } from '@lc/persistence';
import type { DiskDeadLetterStore } from '@lc/persistence';
import { eventually, rec, tempDirs } from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import type { Dispatcher } from './dispatcher.js';

// A failing sink is visible: its cause and what happens next are logged at
// warn (rate-limited per sink), and kept in stats() as its last error;
// records that leave the pipeline (dead-lettered, or dropped without a
// dead-letter store) are logged too, rate-limited the same way.

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}
function capturingLogger(lines: Line[]): Logger {
  const make = (bindings: Record<string, unknown>): Logger => {
    const fn =
      (level: string) =>
      (obj: unknown, msg?: string): void => {
        if (typeof obj === 'string')
          lines.push({ level, obj: bindings, msg: obj });
        else
          lines.push({
            level,
            obj: { ...bindings, ...(obj as object) },
            msg: msg ?? '',
          });
      };
    return {
      trace: fn('trace'),
      debug: fn('debug'),
      info: fn('info'),
      warn: fn('warn'),
      error: fn('error'),
      fatal: fn('fatal'),
      child: (b) => make({ ...bindings, ...b }),
    };
  };
  return make({});
}

function refusingSink(): Sink & { calls: number } {
  const sink = {
    name: 'loki',
    calls: 0,
    async write(_batch: readonly LogRecord[]) {
      sink.calls++;
      return WriteResults.retryable(
        new LcError({
          code: 'LC_ERR_SINK_UNAVAILABLE',
          message: 'connect ECONNREFUSED 127.0.0.1:3100',
        }),
      );
    },
    async flush() {},
    async shutdown() {},
  };
  return sink;
}

const live: Dispatcher[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((d) => d.shutdown()));
});

/** A started dispatcher in front of `sink`, logging into `lines`, retrying every 1-2 ms. */
async function startFailing(
  sink: Sink,
  lines: Line[],
  failureThreshold: number,
): Promise<Dispatcher> {
  const d = createDispatcher({
    sinks: [sink],
    logger: capturingLogger(lines),
    batchMaxRecords: 1,
    batchTimeoutMs: 1,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    circuit: { failureThreshold, openMs: 60_000 },
    shutdownTimeoutMs: 0,
  });
  live.push(d);
  await d.start();
  return d;
}

describe('createDispatcher: sink failures', () => {
  it('should log a failing sink at warn with its cause and next retry, once per 10 s however often it fails, and keep it as the last error', async () => {
    const lines: Line[] = [];
    const sink = refusingSink();
    const d = await startFailing(sink, lines, 1_000);
    for (let n = 1; n <= 5; n++) d.dispatch(rec(n));
    // Ten failures ~1-2 ms apart: far inside one 10 s window.
    await eventually(() => sink.calls >= 10);
    const failed = lines.filter((l) => l.msg.includes('delivery failed'));
    expect(failed).toHaveLength(1);
    expect(failed[0]?.level).toBe('warn');
    expect(failed[0]?.obj).toMatchObject({
      sink: 'loki',
      code: 'LC_ERR_SINK_UNAVAILABLE',
      cause: 'connect ECONNREFUSED 127.0.0.1:3100',
    });
    expect(failed[0]?.msg).toMatch(
      /^sink loki: delivery failed \(connect ECONNREFUSED 127\.0\.0\.1:3100\); retrying in \d+ ms$/,
    );
    expect(d.stats().sinks[0]?.lastError).toMatchObject({
      code: 'LC_ERR_SINK_UNAVAILABLE',
      message: 'connect ECONNREFUSED 127.0.0.1:3100',
    });
  });

  it('should say at warn, with the cause, when a circuit opens', async () => {
    const lines: Line[] = [];
    const d = await startFailing(refusingSink(), lines, 3);
    d.dispatch(rec(1));
    await eventually(() => d.stats().sinks[0]?.circuit === 'open');
    const open = lines.find((l) => l.msg.includes('circuit open'));
    expect(open?.level).toBe('warn');
    expect(open?.obj).toMatchObject({
      sink: 'loki',
      cause: 'connect ECONNREFUSED 127.0.0.1:3100',
      retryInMs: 60_000,
    });
  });
});

describe('createDispatcher: fallback', () => {
  it('should say at warn, once per 10 s per sink, with the cause, that records go to the fallback', async () => {
    const lines: Line[] = [];
    const local = createInMemorySink({ name: 'local' });
    const d = createDispatcher({
      sinks: [refusingSink(), local],
      logger: capturingLogger(lines),
      batchMaxRecords: 1,
      batchTimeoutMs: 1,
      sinkOptions: { loki: { fallback: 'local' } },
      circuit: { failureThreshold: 0 },
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 },
      shutdownTimeoutMs: 0,
    });
    live.push(d);
    await d.start();
    for (let n = 1; n <= 4; n++) d.dispatch(rec(n));
    await eventually(() => local.records.length === 4);
    const diverted = lines.filter((l) => l.msg.includes('fallback'));
    expect(diverted).toHaveLength(1);
    expect(diverted[0]?.level).toBe('warn');
    expect(diverted[0]?.obj).toMatchObject({
      sink: 'loki',
      fallback: 'local',
      records: 1,
      code: 'LC_ERR_SINK_UNAVAILABLE',
    });
    expect(diverted[0]?.msg).toBe(
      'sink loki: 1 record goes to fallback local instead (connect ECONNREFUSED 127.0.0.1:3100)',
    );
  });
});

describe('createDispatcher: dead letters', () => {
  const dirs = tempDirs('lc-failure-logging-');
  const stores: DiskDeadLetterStore[] = [];
  afterEach(async () => {
    await Promise.all(live.splice(0).map((d) => d.shutdown()));
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await dirs.cleanup();
  });
  /** The real dead-letter store, logging where the dispatcher logs. */
  const dlq = async (
    logger: Logger,
    clock?: Clock,
  ): Promise<DiskDeadLetterStore> => {
    const store = await createDeadLetterStore({
      directory: await dirs.make(),
      logger,
      ...(clock === undefined ? {} : { clock }),
    });
    stores.push(store);
    return store;
  };

  const rejected = () =>
    createInMemorySink({
      name: 'loki',
      behaviour: WriteResults.failure(
        new LcError({
          code: 'LC_ERR_SINK_REJECTED',
          message: 'entry too far behind',
        }),
      ),
    });

  it('should log rejected records at warn once per 10 s per sink, with cause, attempts and what became of them, counting the ones held back', async () => {
    const lines: Line[] = [];
    const clock = createFakeClock();
    const logger = capturingLogger(lines);
    const deadLetters = await dlq(logger, clock);
    const d = createDispatcher({
      sinks: [rejected()],
      clock,
      deadLetters,
      logger,
      batchMaxRecords: 1,
      shutdownTimeoutMs: 0,
    });
    live.push(d);
    await d.start();
    for (let n = 1; n <= 4; n++) d.dispatch(rec(n));
    await eventually(() => deadLetters.added === 4);
    const dead = () => lines.filter((l) => l.msg.includes('dead-lettered'));
    expect(dead()).toHaveLength(1);
    expect(dead()[0]?.level).toBe('warn');
    expect(dead()[0]?.obj).toMatchObject({
      sink: 'loki',
      records: 1,
      code: 'LC_ERR_SINK_REJECTED',
      cause: 'entry too far behind',
      attempts: 1,
    });
    expect(dead()[0]?.msg).toBe(
      'sink loki: 1 record failed after 1 attempt (entry too far behind); dead-lettered (kept for replay)',
    );
    clock.advance(10_000);
    d.dispatch(rec(5));
    await eventually(() => dead().length === 2);
    expect(dead()[1]?.obj).toMatchObject({ alsoSinceLastLog: 3 });
  });

  it('should say after how many attempts records were given up on', async () => {
    const lines: Line[] = [];
    const logger = capturingLogger(lines);
    const deadLetters = await dlq(logger);
    const d = createDispatcher({
      sinks: [refusingSink()],
      deadLetters,
      logger,
      batchMaxRecords: 2,
      batchTimeoutMs: 1,
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 },
      shutdownTimeoutMs: 0,
    });
    live.push(d);
    await d.start();
    d.dispatchMany([rec(1), rec(2)]);
    await eventually(() => deadLetters.added === 2);
    const dead = lines.find((l) => l.msg.includes('dead-lettered'));
    expect(dead?.level).toBe('warn');
    expect(dead?.obj).toMatchObject({
      sink: 'loki',
      records: 2,
      code: 'LC_ERR_SINK_UNAVAILABLE',
      attempts: 3,
    });
    expect(dead?.msg).toBe(
      'sink loki: 2 records failed after 3 attempts (connect ECONNREFUSED 127.0.0.1:3100); dead-lettered (kept for replay)',
    );
  });

  it('should log records dropped for want of a dead-letter store at error and count them', async () => {
    const lines: Line[] = [];
    const d = createDispatcher({
      sinks: [rejected()],
      logger: capturingLogger(lines),
      batchMaxRecords: 1,
      shutdownTimeoutMs: 0,
    });
    live.push(d);
    await d.start();
    d.dispatch(rec(1));
    await eventually(() => d.stats().dropped['no_dead_letter_store'] === 1);
    const dropped = lines.filter((l) => l.msg.includes('dropped'));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.level).toBe('error');
    expect(dropped[0]?.msg).toBe(
      'sink loki: 1 record failed after 1 attempt (entry too far behind); dropped: no dead-letter store is configured',
    );
  });
});
