// Moves acknowledgements from memory to the ack journal: coalesced ranges,
// written within one event-loop turn of `ack()`, fdatasynced per policy.
import type { AckJournal } from './ack-journal.js';
import type { AckSet } from './ack-set.js';
import { toBufferError } from './fs-utils.js';

/** What the writer needs from the log. */
export interface AckWriterHost {
  fsync: 'always' | 'interval' | 'never';
  onError(error: unknown): void;
  /** Arrange a later fdatasync (policy `interval`). */
  scheduleFsync(): void;
  countFsync(): void;
  /** After acks reached the journal: reclaim segments, wake writers. */
  afterWrite(): Promise<void>;
  /** The journal hit a full disk; free space if possible (true when freed). */
  onDiskFull(): Promise<boolean>;
}

export class AckWriter {
  /** Written to the journal but not fdatasynced yet. */
  dirty = false;
  private pending: number[] = [];
  private writing: Promise<void> | undefined;
  private readonly journal: AckJournal;
  private readonly host: AckWriterHost;

  constructor(journal: AckJournal, host: AckWriterHost) {
    this.journal = journal;
    this.host = host;
  }

  get journalBytes(): number {
    return this.journal.bytes;
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Queue the inclusive range [from, to], merging with the last one. */
  queue(from: number, to: number): void {
    const p = this.pending;
    if (p.length > 0 && p[p.length - 1] === from - 1) p[p.length - 1] = to;
    else p.push(from, to);
  }

  /** Start a background write of what is queued, if none is running. */
  kick(): void {
    if (this.writing !== undefined || this.pending.length === 0) return;
    let retry = false;
    this.writing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.writeQueued())
      .catch(async (error: unknown) => {
        this.host.onError(toBufferError(error, 'disk log ack journal'));
        if (toBufferError(error, '').code === 'LC_ERR_DISK_FULL')
          retry = await this.host.onDiskFull();
      })
      .catch((error: unknown) => this.host.onError(error))
      .finally(() => {
        this.writing = undefined;
        if (retry) this.kick();
      });
  }

  private async writeQueued(): Promise<void> {
    while (this.pending.length > 0) {
      await this.appendQueued();
      if (this.host.fsync === 'always') await this.sync();
      else if (this.host.fsync === 'interval') this.host.scheduleFsync();
    }
    await this.host.afterWrite();
  }

  /** Append what is queued to the journal now (not synced); re-queues on failure. */
  async appendQueued(): Promise<void> {
    if (this.pending.length === 0) return;
    const ranges = this.pending;
    this.pending = [];
    try {
      await this.journal.append(ranges);
    } catch (error) {
      this.pending = ranges.concat(this.pending);
      throw error;
    }
    this.dirty = true;
  }

  async sync(): Promise<void> {
    this.dirty = false;
    await this.journal.sync();
    this.host.countFsync();
  }

  /** Wait for background writes, including ones started meanwhile. */
  async idle(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  /** Replace journal + checkpoint by one checkpoint (atomic). */
  async checkpoint(acks: AckSet, nextSeqHint: number): Promise<void> {
    await this.journal.checkpoint(acks, nextSeqHint);
    this.dirty = false;
  }

  async close(): Promise<void> {
    await this.journal.close();
  }
}
