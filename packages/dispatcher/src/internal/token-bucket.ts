/** A token bucket: `ratePerSecond` tokens per second, at most `burst` held. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;
  private readonly ratePerMs: number;
  private readonly burst: number;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    this.ratePerMs = ratePerSecond / 1000;
    this.burst = burst;
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Take one token if there is one. */
  take(nowMs: number): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(
        this.burst,
        this.tokens + (nowMs - this.lastMs) * this.ratePerMs,
      );
      this.lastMs = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
