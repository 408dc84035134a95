import { LcError } from '../lc-error.js';
import type { CursorCommitter, Intake } from '../intake.js';
import type { LogRecord } from '../log-record.js';
import type { LifecycleOptions } from '../sink.js';

/** Options for {@link createCollectingIntake}. */
export interface CollectingIntakeOptions {
  /**
   * `dispatch` returns `false` once this many records are held and not
   * yet taken with `take()`. @default Infinity
   */
  highWaterMark?: number;
  /**
   * Commit every record's cursor here as soon as it is dispatched, as if
   * delivery were instant. @default none
   */
  autoCommit?: CursorCommitter;
}

/** A test double for the dispatcher's intake that keeps what it gets. */
export interface CollectingIntake extends Intake {
  /** Every record dispatched, in order. */
  readonly records: readonly LogRecord[];
  /** Remove and return held records, releasing backpressure. */
  take(): LogRecord[];
  /** Resolves once `records.length >= count`, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  /** Make `whenWritable` reject `LC_ERR_SHUT_DOWN` from now on, pending waits included. */
  close(): void;
}

/** Create a {@link CollectingIntake}. */
export function createCollectingIntake(
  options: CollectingIntakeOptions = {},
): CollectingIntake {
  const highWaterMark = options.highWaterMark ?? Infinity;
  const all: LogRecord[] = [];
  let held = 0;
  let closed = false;
  let writable: Array<(error?: LcError) => void> = [];
  let watchers: Array<() => void> = [];

  const accept = (record: LogRecord): void => {
    all.push(record);
    held++;
    if (options.autoCommit !== undefined && record.cursor !== undefined) {
      options.autoCommit.commit(record.source, record.cursor);
    }
  };
  const notify = (): void => {
    const w = watchers;
    watchers = [];
    for (const fn of w) fn();
  };
  return {
    get records() {
      return all;
    },
    dispatch(record) {
      accept(record);
      notify();
      return held < highWaterMark;
    },
    dispatchMany(records) {
      for (const r of records) accept(r);
      notify();
      return held < highWaterMark;
    },
    whenWritable(opts?: LifecycleOptions) {
      if (closed) {
        return Promise.reject(
          new LcError({ code: 'LC_ERR_SHUT_DOWN', message: 'intake closed' }),
        );
      }
      if (held < highWaterMark) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const signal = opts?.signal;
        const onAbort = (): void => {
          writable = writable.filter((w) => w !== done);
          reject(new LcError({ code: 'LC_ERR_ABORTED', message: 'aborted' }));
        };
        // The listener goes when the wait ends: callers reuse one signal
        // for many waits.
        const done = (error?: LcError): void => {
          signal?.removeEventListener('abort', onAbort);
          if (error === undefined) resolve();
          else reject(error);
        };
        writable.push(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    take() {
      const out = all.slice(all.length - held);
      held = 0;
      const w = writable;
      writable = [];
      for (const fn of w) fn();
      return out;
    },
    waitFor(count, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new LcError({
                code: 'LC_ERR_TIMEOUT',
                message: `waited ${timeoutMs} ms for ${count} records, have ${all.length}`,
              }),
            ),
          timeoutMs,
        );
        const check = (): void => {
          if (all.length >= count) {
            clearTimeout(timer);
            resolve();
          } else watchers.push(check);
        };
        check();
      });
    },
    close() {
      closed = true;
      const w = writable;
      writable = [];
      const error = new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: 'intake closed',
      });
      for (const fn of w) fn(error);
    },
  };
}
