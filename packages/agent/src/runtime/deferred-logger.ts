import type { Logger } from '@lc/core';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const LEVELS: readonly Level[] = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
];
/** Entries kept before the real logger exists; older ones are dropped (counted in a last line). */
const MAX_QUEUED = 1000;

/** A {@link Logger} that queues until {@link DeferredLogger.attach} gives it the real one. */
export interface DeferredLogger extends Logger {
  /** Replay what was queued into `real`, then write straight to it. */
  attach(real: Logger): void;
}

interface Queued {
  readonly path: readonly Record<string, unknown>[];
  readonly level: Level;
  readonly args: readonly unknown[];
}

/**
 * For components created before the agent's logger (the position store
 * opened at process start): their lines are kept in order and written,
 * with their bindings, once the real logger is attached.
 */
export function createDeferredLogger(): DeferredLogger {
  const queue: Queued[] = [];
  let dropped = 0;
  let real: Logger | undefined;
  const resolve = (path: readonly Record<string, unknown>[]): Logger => {
    let l = real as Logger;
    for (const b of path) l = l.child(b);
    return l;
  };
  const make = (path: readonly Record<string, unknown>[]): Logger => {
    const logger = {
      child: (b: Record<string, unknown>) => make([...path, b]),
    } as Logger;
    for (const level of LEVELS) {
      (logger as unknown as Record<Level, (...a: unknown[]) => void>)[level] = (
        ...args: unknown[]
      ) => {
        if (real !== undefined) {
          (resolve(path)[level] as (...a: unknown[]) => void)(...args);
          return;
        }
        if (queue.length >= MAX_QUEUED) dropped++;
        else queue.push({ path, level, args });
      };
    }
    return logger;
  };
  const root = make([]) as DeferredLogger;
  root.attach = (logger: Logger) => {
    real = logger;
    for (const q of queue.splice(0))
      (resolve(q.path)[q.level] as (...a: unknown[]) => void)(...q.args);
    if (dropped > 0)
      logger.warn(
        { dropped },
        'log lines from before the logger existed were dropped',
      );
  };
  return root;
}
