import { LcError } from '../lc-error.js';
import { once, sleep } from '../lifecycle.js';
import type { LogRecord } from '../log-record.js';
import type { Sink, WriteOptions } from '../sink.js';
import { shutDownResult } from '../define-sink.js';
import { WriteResults } from '../write-result.js';
import type { RecordFailure, WriteResult } from '../write-result.js';

/**
 * What the in-memory sink does with the next write: a fixed result, a
 * function of the batch, or `'success'`.
 */
export type InMemorySinkBehaviour =
  | 'success'
  | 'retryable'
  | 'failure'
  | WriteResult
  | ((batch: readonly LogRecord[], attempt: number) => WriteResult);

/** Options for {@link createInMemorySink}. */
export interface InMemorySinkOptions {
  /** @default 'memory' */
  name?: string;
  /** Default behaviour for writes. @default 'success' */
  behaviour?: InMemorySinkBehaviour;
  /** Delay every write by this many ms (honours the abort signal). @default 0 */
  delayMs?: number;
}

/** One recorded call to `write`. */
export interface InMemorySinkCall {
  readonly batch: readonly LogRecord[];
  readonly result: WriteResult;
}

/** An in-memory sink for tests, with controls. */
export interface InMemorySink extends Sink {
  /** Every write call, in order, with the result returned. */
  readonly calls: readonly InMemorySinkCall[];
  /** Every record delivered (success, or the accepted part of a partial). */
  readonly records: readonly LogRecord[];
  /** Change the behaviour for later writes. */
  setBehaviour(behaviour: InMemorySinkBehaviour): void;
  /** Queue one-shot behaviours used by the next writes, in order. */
  enqueueBehaviour(...behaviours: InMemorySinkBehaviour[]): void;
  /** Change the delay for later writes. */
  setDelayMs(delayMs: number): void;
  /** Forget recorded calls and records. */
  reset(): void;
  /** True after `shutdown`. */
  readonly isShutDown: boolean;
}

/**
 * Create an in-memory sink that records every call and can be told to
 * succeed, fail, partially succeed, or delay.
 */
export function createInMemorySink(
  options: InMemorySinkOptions = {},
): InMemorySink {
  const name = options.name ?? 'memory';
  let behaviour: InMemorySinkBehaviour = options.behaviour ?? 'success';
  let delayMs = options.delayMs ?? 0;
  const queued: InMemorySinkBehaviour[] = [];
  const calls: InMemorySinkCall[] = [];
  const records: LogRecord[] = [];
  let shutDown = false;
  let attempt = 0;

  const resolve = (
    b: InMemorySinkBehaviour,
    batch: readonly LogRecord[],
  ): WriteResult => {
    if (typeof b === 'function') return b(batch, attempt);
    if (b === 'success') return WriteResults.success();
    const error = new LcError({
      code:
        b === 'retryable' ? 'LC_ERR_SINK_UNAVAILABLE' : 'LC_ERR_SINK_REJECTED',
      message: `in-memory sink "${name}" told to answer ${typeof b === 'string' ? b : b.status}`,
    });
    if (b === 'retryable') return WriteResults.retryable(error);
    if (b === 'failure') return WriteResults.failure(error);
    return b;
  };

  const sink: InMemorySink = {
    name,
    get calls() {
      return calls;
    },
    get records() {
      return records;
    },
    get isShutDown() {
      return shutDown;
    },
    async write(batch: readonly LogRecord[], opts: WriteOptions) {
      if (shutDown) return shutDownResult(name);
      attempt++;
      if (delayMs > 0) {
        try {
          await sleep(delayMs, opts.signal);
        } catch (error) {
          const result = WriteResults.retryable(
            new LcError({
              code: 'LC_ERR_ABORTED',
              message: `in-memory sink "${name}": write aborted`,
              cause: error,
            }),
          );
          calls.push({ batch, result });
          return result;
        }
      }
      const result = resolve(queued.shift() ?? behaviour, batch);
      calls.push({ batch, result });
      if (result.status === 'success') records.push(...batch);
      if (result.status === 'partial') {
        const failed = new Set(
          result.failed.map((f: RecordFailure) => f.index),
        );
        batch.forEach((r, i) => {
          if (!failed.has(i)) records.push(r);
        });
      }
      return result;
    },
    async flush() {},
    shutdown: once(async () => {
      shutDown = true;
    }),
    setBehaviour(b) {
      behaviour = b;
    },
    enqueueBehaviour(...b) {
      queued.push(...b);
    },
    setDelayMs(ms) {
      delayMs = ms;
    },
    reset() {
      calls.length = 0;
      records.length = 0;
      attempt = 0;
    },
  };
  return sink;
}
