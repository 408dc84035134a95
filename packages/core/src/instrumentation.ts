import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { MetricsRegistry } from './metrics.js';

/**
 * Side effects every lc component accepts, all optional. Spread into a
 * component's options object.
 */
export interface Instrumentation {
  /** Where to log. @default silentLogger */
  logger?: Logger;
  /** Where to register metrics. @default a private, unscraped registry */
  registry?: MetricsRegistry;
  /** Time source and timers. @default systemClock */
  clock?: Clock;
  /**
   * Receives errors from background work (timers, streams) that have no
   * caller to return to. @default logs at `error` level
   */
  onError?: (error: unknown) => void;
}
