// Crash-safe acknowledgement state: an append-only journal of acked seq
// ranges plus a checkpoint written with write-tmp → fsync → rename. Replay
// is idempotent (set union), so a crash between the checkpoint rename and
// the journal truncation loses nothing.
import {
  open,
  readFile,
  rename,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { AckSet } from './ack-set.js';
import { crc32c } from './crc32c.js';
import { fsyncDirectory } from './fs-utils.js';

const JOURNAL_NAME = 'acks.log';
const CHECKPOINT_NAME = 'acks.ckpt';
const CHECKPOINT_MAGIC = Buffer.from('LCACKCK1', 'latin1');
const ENTRY_HEADER_BYTES = 8;

/** What {@link AckJournal.open} found on disk. */
export interface LoadedAcks {
  journal: AckJournal;
  acks: AckSet;
  /** Highest seq ever handed out + 1, as last checkpointed. */
  nextSeqHint: number;
  /** Human-readable problems found (torn journal tail, bad checkpoint). */
  problems: {
    kind: 'ack-journal-torn' | 'ack-checkpoint-corrupt';
    bytes: number;
  }[];
}

export class AckJournal {
  private readonly directory: string;
  private readonly handle: FileHandle;
  private size: number;

  private constructor(directory: string, handle: FileHandle, size: number) {
    this.directory = directory;
    this.handle = handle;
    this.size = size;
  }

  get bytes(): number {
    return this.size;
  }

  static async open(directory: string): Promise<LoadedAcks> {
    const acks = new AckSet();
    const problems: LoadedAcks['problems'] = [];
    let nextSeqHint = 0;
    const ckptPath = join(directory, CHECKPOINT_NAME);
    const ckpt = await readFile(ckptPath).catch(() => undefined);
    if (ckpt !== undefined) {
      const ok =
        ckpt.length >= 24 &&
        ckpt.subarray(0, 8).equals(CHECKPOINT_MAGIC) &&
        (ckpt.length - 24) % 16 === 0 &&
        crc32c(ckpt, 12) === ckpt.readUInt32LE(8);
      if (ok) {
        nextSeqHint = ckpt.readDoubleLE(16);
        for (let p = 24; p < ckpt.length; p += 16) {
          acks.addRange(ckpt.readDoubleLE(p), ckpt.readDoubleLE(p + 8));
        }
      } else {
        problems.push({ kind: 'ack-checkpoint-corrupt', bytes: ckpt.length });
      }
    }
    const journalPath = join(directory, JOURNAL_NAME);
    const handle = await open(journalPath, 'a+');
    const data = await readFile(journalPath);
    let p = 0;
    while (p + ENTRY_HEADER_BYTES <= data.length) {
      const len = data.readUInt32LE(p);
      const end = p + ENTRY_HEADER_BYTES + len;
      if (len % 16 !== 0 || end > data.length) break;
      if (
        crc32c(data, p + ENTRY_HEADER_BYTES, end) !== data.readUInt32LE(p + 4)
      )
        break;
      for (let q = p + ENTRY_HEADER_BYTES; q < end; q += 16) {
        acks.addRange(data.readDoubleLE(q), data.readDoubleLE(q + 8));
      }
      p = end;
    }
    if (p < data.length) {
      // Torn tail: the acks in it were never confirmed durable; drop them.
      problems.push({ kind: 'ack-journal-torn', bytes: data.length - p });
      await handle.truncate(p);
    }
    return {
      journal: new AckJournal(directory, handle, p),
      acks,
      nextSeqHint,
      problems,
    };
  }

  /** Append acked ranges (flat [start, end, ...]). Not synced. */
  async append(ranges: readonly number[]): Promise<void> {
    if (ranges.length === 0) return;
    const buf = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + ranges.length * 8);
    buf.writeUInt32LE(ranges.length * 8, 0);
    for (let i = 0; i < ranges.length; i++) {
      buf.writeDoubleLE(ranges[i] as number, ENTRY_HEADER_BYTES + i * 8);
    }
    buf.writeUInt32LE(crc32c(buf, ENTRY_HEADER_BYTES), 4);
    const before = this.size;
    try {
      await this.handle.write(buf, 0, buf.length, before);
      this.size = before + buf.length;
    } catch (error) {
      // Leave no partial entry behind (a later entry after garbage would be
      // unreachable on replay).
      await this.handle.truncate(before).catch(() => undefined);
      throw error;
    }
  }

  async sync(): Promise<void> {
    await this.handle.datasync();
  }

  /** Replace journal + checkpoint by one checkpoint of `acks`. */
  async checkpoint(acks: AckSet, nextSeqHint: number): Promise<void> {
    const ranges = acks.toArray();
    const buf = Buffer.allocUnsafe(24 + ranges.length * 8);
    CHECKPOINT_MAGIC.copy(buf, 0);
    buf.writeDoubleLE(nextSeqHint, 16);
    for (let i = 0; i < ranges.length; i++)
      buf.writeDoubleLE(ranges[i] as number, 24 + i * 8);
    buf.writeUInt32LE(0, 12);
    buf.writeUInt32LE(crc32c(buf, 12), 8);
    const tmp = join(this.directory, `${CHECKPOINT_NAME}.tmp`);
    await writeFile(tmp, buf, { flush: true });
    await rename(tmp, join(this.directory, CHECKPOINT_NAME));
    await fsyncDirectory(this.directory);
    await this.handle.truncate(0);
    this.size = 0;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
