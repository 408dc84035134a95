/**
 * The part of `@lc/buffer`'s `DiskLog` this package uses. Kept structural
 * so a real `DiskLog` satisfies it directly.
 */
export interface DiskLogPort {
  append(
    payload: Uint8Array,
    meta?: { timestampMs?: number; source?: string },
  ): Promise<number>;
  read(options?: {
    fromSeq?: number;
    fromTimestampMs?: number;
    toTimestampMs?: number;
    source?: string;
    includeAcknowledged?: boolean;
  }): AsyncIterable<{
    seq: number;
    timestampMs: number;
    source?: string;
    payload: Buffer;
  }>;
  ack(seqs: number | readonly number[]): void;
  readonly nextSeq: number;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}
