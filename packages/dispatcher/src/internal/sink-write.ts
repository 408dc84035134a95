import { LcError, toLcError, WriteResults } from '@lc/core';
import type { Clock, WriteResult } from '@lc/core';
import type { Lane } from './model.js';

/**
 * Write `records` to `lane`'s sink within `timeoutMs`: the sink's signal
 * aborts at the limit (or when `controllers` are aborted at shutdown) and
 * the attempt resolves retryable even if the sink ignores its signal. A
 * throwing sink is reported to `onError` and counts as retryable. `onDone`
 * gets the result and the write's duration in seconds; what it throws goes
 * to `onError`.
 */
export function writeWithTimeout(
  lane: Lane,
  records: Parameters<Lane['sink']['write']>[0],
  timeoutMs: number,
  clock: Clock,
  controllers: Set<AbortController>,
  onError: (error: unknown) => void,
  onDone: (result: WriteResult, seconds: number) => void,
): void {
  const controller = new AbortController();
  controllers.add(controller);
  const started = clock.monotonicNow();
  const timer = clock.setTimeout(() => {
    controller.abort(
      new LcError({
        code: 'LC_ERR_TIMEOUT',
        message: `sink "${lane.name}" write timed out after ${timeoutMs} ms`,
        details: { sink: lane.name, timeoutMs },
      }),
    );
  }, timeoutMs);
  timer.unref();
  // A sink that ignores its signal must not hold a worker forever.
  const aborted = new Promise<WriteResult>((resolve) => {
    controller.signal.addEventListener(
      'abort',
      () =>
        resolve(
          WriteResults.retryable(
            toLcError(controller.signal.reason, 'LC_ERR_ABORTED'),
          ),
        ),
      { once: true },
    );
  });
  let write: Promise<WriteResult>;
  try {
    write = lane.sink.write(records, { signal: controller.signal });
  } catch (error) {
    write = Promise.reject(error);
  }
  Promise.race([write, aborted])
    .catch((error: unknown) => {
      onError(error);
      return WriteResults.retryable(
        toLcError(error, 'LC_ERR_SINK_WRITE', `sink "${lane.name}" threw`),
      );
    })
    .then((result) => {
      clock.clearTimeout(timer);
      controllers.delete(controller);
      onDone(result, (clock.monotonicNow() - started) / 1000);
    })
    .catch(onError);
}
