// Acknowledged sequence numbers as sorted, disjoint, non-adjacent closed
// intervals. In-order acks keep it at one interval; out-of-order acks cost
// one interval per gap.

export class AckSet {
  /** Flat [start0, end0, start1, end1, ...], sorted, merged. */
  private ranges: number[] = [];

  get intervalCount(): number {
    return this.ranges.length / 2;
  }

  /** Index of the first interval whose end ≥ seq. */
  private lowerBound(seq: number): number {
    let lo = 0;
    let hi = this.ranges.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ranges[mid * 2 + 1] as number) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(seq: number): boolean {
    const i = this.lowerBound(seq);
    return i * 2 < this.ranges.length && (this.ranges[i * 2] as number) <= seq;
  }

  /** Add [start, end]; returns true when anything new was added. */
  addRange(start: number, end: number): boolean {
    if (end < start) return false;
    const r = this.ranges;
    // First interval that could touch [start-1, end+1].
    const i = this.lowerBound(start - 1);
    if (
      i * 2 < r.length &&
      (r[i * 2] as number) <= start &&
      (r[i * 2 + 1] as number) >= end
    ) {
      return false;
    }
    let newStart = start;
    let newEnd = end;
    let j = i;
    while (j * 2 < r.length && (r[j * 2] as number) <= end + 1) {
      newStart = Math.min(newStart, r[j * 2] as number);
      newEnd = Math.max(newEnd, r[j * 2 + 1] as number);
      j++;
    }
    r.splice(i * 2, (j - i) * 2, newStart, newEnd);
    return true;
  }

  add(seq: number): boolean {
    return this.addRange(seq, seq);
  }

  /** Number of acknowledged seqs in [start, end]. */
  countInRange(start: number, end: number): number {
    let n = 0;
    for (let i = this.lowerBound(start); i * 2 < this.ranges.length; i++) {
      const s = this.ranges[i * 2] as number;
      const e = this.ranges[i * 2 + 1] as number;
      if (s > end) break;
      n += Math.min(e, end) - Math.max(s, start) + 1;
    }
    return n;
  }

  /** True when every seq in [start, end] is acknowledged. */
  coversRange(start: number, end: number): boolean {
    if (end < start) return true;
    const i = this.lowerBound(start);
    return (
      i * 2 < this.ranges.length &&
      (this.ranges[i * 2] as number) <= start &&
      (this.ranges[i * 2 + 1] as number) >= end
    );
  }

  /** Smallest unacknowledged seq ≥ seq. */
  nextUnacked(seq: number): number {
    const i = this.lowerBound(seq);
    if (i * 2 < this.ranges.length && (this.ranges[i * 2] as number) <= seq) {
      return (this.ranges[i * 2 + 1] as number) + 1;
    }
    return seq;
  }

  /** Forget everything below `seq` (those records no longer exist). */
  dropBelow(seq: number): void {
    const r = this.ranges;
    let k = 0;
    while (k * 2 < r.length && (r[k * 2 + 1] as number) < seq) k++;
    r.splice(0, k * 2);
    if (r.length > 0 && (r[0] as number) < seq) r[0] = seq;
  }

  /** The highest acknowledged seq, or -1. */
  max(): number {
    return this.ranges.length === 0
      ? -1
      : (this.ranges[this.ranges.length - 1] as number);
  }

  /** Flat interval list, for persistence. */
  toArray(): readonly number[] {
    return this.ranges;
  }
}
