/**
 * SIGINT/SIGTERM caught from the first moment `lc-agent run` runs, before
 * the config is read and the pipeline's code loads: a stop requested while
 * the agent starts is a graceful stop (exit 0), not a death by the default
 * signal action. `runAgent` takes over the signals once its own handlers
 * are installed and stops at once if one came meanwhile.
 */
export interface EarlySignals {
  /** The first stop signal received so far, if any. */
  readonly received: NodeJS.Signals | undefined;
  /** Stop catching (the caller has installed its own handlers). Idempotent. */
  release(): void;
}

/** Start catching SIGINT and SIGTERM. */
export function catchEarlySignals(): EarlySignals {
  let received: NodeJS.Signals | undefined;
  const on = (signal: NodeJS.Signals): void => {
    received ??= signal;
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    get received() {
      return received;
    },
    release() {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}
