import type { Clock, Logger } from '@lc/core';
import type { Counter } from 'prom-client';

/** At most one log line per this long about lines that are not CRI, ms. */
const LOG_INTERVAL_MS = 10_000;
/** Characters of a malformed line quoted in the log line. */
const SAMPLE_CHARS = 200;

/**
 * Counts lines that are not CRI and logs them with their file and offset,
 * at most once per {@link LOG_INTERVAL_MS} (with how many were not logged
 * since): a file of garbage must not flood the agent's own log.
 */
export class MalformedLog {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly counter: Counter;
  private lastLoggedAt = -Infinity;
  private suppressed = 0;

  constructor(clock: Clock, logger: Logger, counter: Counter) {
    this.clock = clock;
    this.logger = logger;
    this.counter = counter;
  }

  /** A line at byte `offset` of `path` is not a CRI line; it is passed through as it is. */
  report(path: string, offset: number, line: string): void {
    this.counter.inc();
    const now = this.clock.monotonicNow();
    if (now - this.lastLoggedAt < LOG_INTERVAL_MS) {
      this.suppressed++;
      return;
    }
    this.lastLoggedAt = now;
    const notLogged = this.suppressed;
    this.suppressed = 0;
    this.logger.warn(
      {
        path,
        offset,
        line:
          line.length > SAMPLE_CHARS ? `${line.slice(0, SAMPLE_CHARS)}…` : line,
        ...(notLogged > 0 ? { notLoggedSince: notLogged } : {}),
      },
      'kubernetes: a line is not in the CRI format (<time> <stream> <P|F> <message>); passed through unparsed',
    );
  }
}
