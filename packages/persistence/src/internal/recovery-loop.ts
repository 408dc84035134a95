import { LcError, toLcError } from '@lc/core';
import type { Clock, Logger, PersistedBatch, TimerHandle } from '@lc/core';
import type { RedeliveryHandler } from '../batch-persistence-options.js';
import { fullJitterDelayMs } from './backoff.js';
import type { BatchState } from './batch-state.js';

/** What the recovery loop needs from the batch WAL. */
export interface RecoveryLoopContext {
  readonly batches: ReadonlyMap<string, BatchState>;
  readonly clock: Clock;
  readonly random: () => number;
  readonly batchTtlMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly maxRecoveryRetries: number;
  readonly checkIntervalMs: number;
  readonly logger: Logger;
  getHandler(): RedeliveryHandler | undefined;
  isClosed(): boolean;
  readBatch(st: BatchState): Promise<PersistedBatch>;
  deadLetter(st: BatchState, sink: string, error: LcError): Promise<void>;
  track<T>(promise: Promise<T>): Promise<T>;
  onError(error: unknown): void;
  onExpired(): void;
  onRedelivered(): void;
}

/** The periodic TTL and redelivery checks of the batch WAL. */
export interface RecoveryLoop {
  /**
   * Take back `sink` of a batch: schedule its next offer after full-jitter
   * backoff, or dead-letter it once `maxRecoveryRetries` offers were made.
   */
  park(st: BatchState, sink: string, error: LcError): void;
  start(): void;
  stop(): void;
}

/**
 * Every `checkIntervalMs`: dead-letter batches older than `batchTtlMs`
 * (`LC_ERR_BATCH_EXPIRED`), and offer parked sinks whose time has come to
 * the redelivery handler. One check runs at a time; a slow one delays the
 * next instead of overlapping it.
 */
export function createRecoveryLoop(ctx: RecoveryLoopContext): RecoveryLoop {
  const { clock } = ctx;
  let timer: TimerHandle | undefined;
  let running = false;

  function park(st: BatchState, sink: string, error: LcError): void {
    const offers = st.recoveries.get(sink) ?? 0;
    if (offers >= ctx.maxRecoveryRetries) {
      ctx.logger.warn(
        { batchId: st.id, sink, offers },
        'recovery retries exhausted; dead-lettering',
      );
      ctx.track(ctx.deadLetter(st, sink, error)).catch(ctx.onError);
      return;
    }
    const delayMs = fullJitterDelayMs(
      offers + 1,
      ctx.backoffBaseMs,
      ctx.backoffMaxMs,
      ctx.random,
    );
    st.parked.set(sink, clock.now() + delayMs);
  }

  async function expire(st: BatchState): Promise<void> {
    ctx.onExpired();
    const error = new LcError({
      code: 'LC_ERR_BATCH_EXPIRED',
      message: `expired: batch ${st.id} is older than batchTtlMs (${ctx.batchTtlMs} ms)`,
      details: { batchId: st.id, createdAtMs: st.createdAtMs },
    });
    for (const sink of [...st.pending]) await ctx.deadLetter(st, sink, error);
  }

  async function offer(
    st: BatchState,
    due: string[],
    handler: RedeliveryHandler,
  ): Promise<void> {
    for (const sink of due) {
      st.parked.delete(sink);
      st.recoveries.set(sink, (st.recoveries.get(sink) ?? 0) + 1);
    }
    ctx.onRedelivered();
    try {
      const batch = await ctx.readBatch(st);
      await handler({
        ...batch,
        pendingSinks: due,
        attempts: { ...st.attempts },
      });
    } catch (error) {
      ctx.onError(error);
      const lcError = toLcError(error, 'LC_ERR_INTERNAL', 'redelivery failed');
      for (const sink of due) if (st.pending.has(sink)) park(st, sink, lcError);
    }
  }

  async function check(): Promise<void> {
    const now = clock.now();
    for (const st of [...ctx.batches.values()]) {
      if (ctx.isClosed()) return;
      if (st.settled) continue;
      if (now - st.createdAtMs >= ctx.batchTtlMs) {
        await expire(st);
        continue;
      }
      const handler = ctx.getHandler();
      if (handler === undefined) continue;
      const due = [...st.parked]
        .filter(([, at]) => at <= now)
        .map(([sink]) => sink);
      if (due.length > 0) await offer(st, due, handler);
    }
  }

  function onTimer(): void {
    if (ctx.isClosed()) return;
    if (!running) {
      running = true;
      ctx
        .track(check())
        .catch(ctx.onError)
        .finally(() => {
          running = false;
        });
    }
    timer = clock.setTimeout(onTimer, ctx.checkIntervalMs);
    timer.unref();
  }

  return {
    park,
    start() {
      timer ??= clock.setTimeout(onTimer, ctx.checkIntervalMs);
      timer.unref();
    },
    stop() {
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}
