import { LcError, WriteResults } from '@lc/core';
import type { Logger, LogRecord, Sink } from '@lc/core';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, rec } from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import type { Dispatcher } from './dispatcher.js';

// A failing sink is visible: its cause and what happens next are logged at
// warn (rate-limited per sink), and kept in stats() as its last error.

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
