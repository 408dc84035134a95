import { createRequire } from 'node:module';
import type * as XxHashModule from '@node-rs/xxhash';
import type { LogRecord } from '@lc/core';

/**
 * Remembers records seen in the last `ttlMs` (at most `maxEntries`, oldest
 * evicted first) by a 64-bit xxh3 hash of source, line and timestamp.
 */
export class DedupCache {
  // Map iteration order is insertion order: the first entry is the oldest.
  private readonly seen = new Map<bigint, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(ttlMs: number, maxEntries: number) {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.seen.size;
  }

  /** True when `record` was seen within the TTL; remembers it otherwise. */
  isDuplicate(record: LogRecord, nowMs: number): boolean {
    const key = xxhash().xxh3.xxh64(
      `${record.source.kind}\u0000${record.source.id}\u0000${record.timestampMs}.${record.timestampNanos}\u0000${record.line}`,
    );
    const expires = this.seen.get(key);
    if (expires !== undefined && expires > nowMs) return true;
    if (expires !== undefined) this.seen.delete(key);
    this.seen.set(key, nowMs + this.ttlMs);
    this.evict(nowMs);
    return false;
  }

  private evict(nowMs: number): void {
    for (const [key, expires] of this.seen) {
      if (this.seen.size <= this.maxEntries && expires > nowMs) break;
      this.seen.delete(key);
    }
  }
}

type XxHash = typeof XxHashModule;
let xxhashModule: XxHash | undefined;
/** The xxhash native addon, loaded when dedup is first used (it is off by default). */
function xxhash(): XxHash {
  xxhashModule ??= createRequire(import.meta.url)('@node-rs/xxhash') as XxHash;
  return xxhashModule;
}
