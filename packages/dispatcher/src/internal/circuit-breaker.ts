import type { Clock } from '@lc/core';

/** Circuit breaker state. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options for {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive retryable failures that open the circuit (0 disables). */
  failureThreshold: number;
  /** How long the circuit stays open before one probe is allowed. */
  openMs: number;
  clock: Clock;
  /** Called on every state change. */
  onChange: (state: CircuitState) => void;
}

/**
 * Per-sink circuit breaker: closed → open after `failureThreshold`
 * consecutive retryable failures → half-open after `openMs` (one probe) →
 * closed on success, open again on failure. Data errors (`failure`) are not
 * the sink's health and are never reported here.
 */
export class CircuitBreaker {
  state: CircuitState = 'closed';
  /** When the circuit last opened (clock.now ms); 0 when closed. */
  openedAtMs = 0;
  /** When the current outage began (first open since last closed). */
  outageSinceMs = 0;
  private failures = 0;
  private probing = false;
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  private readonly options: CircuitBreakerOptions;

  constructor(options: CircuitBreakerOptions) {
    this.options = options;
  }

  /** May a new attempt start now? In half-open, only one probe at a time. */
  allows(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') return false;
    return !this.probing;
  }

  /** An attempt is starting (marks the half-open probe). */
  onAttempt(): void {
    if (this.state === 'half-open') this.probing = true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.probing = false;
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.outageSinceMs = 0;
      this.clearTimer();
      this.options.onChange('closed');
    }
  }

  onRetryableFailure(): void {
    this.failures++;
    this.probing = false;
    if (this.options.failureThreshold <= 0) return;
    if (
      this.state === 'half-open' ||
      (this.state === 'closed' &&
        this.failures >= this.options.failureThreshold)
    ) {
      this.open();
    }
  }

  /** Stop the half-open timer (shutdown). */
  dispose(): void {
    this.clearTimer();
  }

  private open(): void {
    const { clock } = this.options;
    this.state = 'open';
    this.openedAtMs = clock.now();
    if (this.outageSinceMs === 0) this.outageSinceMs = this.openedAtMs;
    this.clearTimer();
    const timer = clock.setTimeout(() => {
      this.timer = undefined;
      this.state = 'half-open';
      this.options.onChange('half-open');
    }, this.options.openMs);
    timer.unref();
    this.timer = timer;
    this.options.onChange('open');
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.options.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
