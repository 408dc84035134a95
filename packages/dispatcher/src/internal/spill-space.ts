import { statfs as nodeStatfs } from 'node:fs/promises';
import type { DiskLog } from '@lc/buffer';
import { LcError } from '@lc/core';
import type { Clock, Logger } from '@lc/core';
import { decodeChunk } from './spill-codec.js';
import type { SpillDictionary } from './spill-codec.js';

/** One chunk written to the spill's disk log and not read back yet. */
export interface SpilledChunk {
  readonly seq: number;
  readonly records: number;
  /** Estimated bytes (or bytes on disk for chunks found at open). */
  readonly bytes: number;
  /** When its oldest record entered the spill, ms since the epoch. */
  readonly atMs: number;
}

/** The spill's chunks on disk, oldest first. */
export class ChunkQueue {
  private items: SpilledChunk[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** Seq of the oldest chunk; `Infinity` when empty. */
  get headSeq(): number {
    return this.items[this.head]?.seq ?? Number.POSITIVE_INFINITY;
  }

  /** When the oldest chunk's first record entered the spill; `undefined` when empty. */
  get headAtMs(): number | undefined {
    return this.items[this.head]?.atMs;
  }

  push(seq: number, records: number, bytes: number, atMs: number): void {
    this.items.push({ seq, records, bytes, atMs });
  }

  /** Take the oldest chunk (the queue must not be empty). */
  shift(): SpilledChunk {
    const c = this.items[this.head++] as SpilledChunk;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return c;
  }
}

/** Free space below which nothing more is spilled, by default: 10 % of the file system, at most 512 MiB. */
const DEFAULT_FLOOR_SHARE = 0.1;
const DEFAULT_FLOOR_MAX = 512 * 1024 * 1024;
const CHECK_EVERY_MS = 1000;

/** What `statfs` reports (the fields used). */
interface FsStats {
  readonly bsize: number;
  readonly blocks: number;
  readonly bavail: number;
}

/**
 * Whether the spill's file system has room above the free-space floor,
 * checked at most once a second (in the background: `above()` answers
 * from the last check and never blocks). Unknown counts as room.
 */
export class SpillFreeSpace {
  private readonly directory: string;
  private readonly floor: number | undefined;
  private readonly clock: Clock;
  private readonly statfs: (path: string) => Promise<FsStats>;
  private checkedAtMs = Number.NEGATIVE_INFINITY;
  private checking = false;
  private room = true;

  constructor(
    directory: string,
    floor: number | undefined,
    clock: Clock,
    statfs: (path: string) => Promise<FsStats> = nodeStatfs,
  ) {
    this.directory = directory;
    this.floor = floor;
    this.clock = clock;
    this.statfs = statfs;
  }

  above(): boolean {
    const now = this.clock.monotonicNow();
    if (!this.checking && now - this.checkedAtMs >= CHECK_EVERY_MS) {
      this.checking = true;
      this.checkedAtMs = now;
      this.statfs(this.directory)
        .then((st) => {
          const total = st.blocks * st.bsize;
          const floor =
            this.floor ??
            Math.min(
              DEFAULT_FLOOR_MAX,
              Math.floor(total * DEFAULT_FLOOR_SHARE),
            );
          this.room = st.bavail * st.bsize >= floor;
        })
        .catch(() => {
          this.room = true; // not there yet (created at open), or no statfs
        })
        .finally(() => {
          this.checking = false;
        });
    }
    return this.room;
  }
}

/** `n` spilled records of a damaged chunk can never be read back. */
export function damagedError(n: number): LcError {
  return new LcError({
    code: 'LC_ERR_BUFFER_CORRUPT',
    message: `${n} spilled records could not be read back (damaged on disk)`,
    details: { records: n },
  });
}

/**
 * Delete the oldest chunk `head` to make room (`whenFull: drop_oldest`):
 * acknowledge it and log how many records of which sources went.
 */
export async function dropChunkFromLog(
  log: DiskLog,
  head: SpilledChunk,
  dict: SpillDictionary,
  logger: Logger,
  maxBytes: number,
): Promise<void> {
  const sources = await chunkSources(log, head.seq, dict);
  try {
    log.ack(head.seq);
  } catch {
    // quarantined already
  }
  logger.warn(
    { records: head.records, sources, maxBytes },
    'disk buffer full (spill.whenFull: drop_oldest): dropped its oldest records',
  );
}

/** Records per source (`file_path` label, else `kind:id`) in chunk `seq`: named when it is dropped. */
async function chunkSources(
  log: DiskLog,
  seq: number,
  dict: SpillDictionary,
): Promise<Record<string, number>> {
  const sources: Record<string, number> = {};
  for await (const entry of log.read({ fromSeq: seq })) {
    if (entry.seq === seq) {
      for (const r of decodeChunk(entry.payload, dict)) {
        const name = r.labels['file_path'] ?? `${r.source.kind}:${r.source.id}`;
        sources[name] = (sources[name] ?? 0) + 1;
      }
    }
    break;
  }
  return sources;
}
