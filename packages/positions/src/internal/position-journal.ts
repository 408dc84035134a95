import { open, readdir, readFile, truncate, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Position } from '@lc/core';

/**
 * The append-only journal of the JSON position store: one line per save,
 * `<crc32 hex> {"u":[positions],"d":[keys]}\n`. A line is applied whole or
 * not at all, so a save is atomic; a torn or damaged line ends the valid
 * part of its file.
 */

/** One decoded journal line: the positions it upserts and the keys it deletes. */
export interface JournalRecord {
  readonly upserts: readonly Position[];
  /** `JSON.stringify` of each upsert, as written (reused as snapshot lines). */
  readonly lines: readonly string[];
  readonly deletes: readonly string[];
}

/** A journal file read back. */
export interface DecodedJournal {
  readonly records: JournalRecord[];
  /** Bytes of whole, valid lines from the start of the file. */
  readonly validBytes: number;
  /** Size of the file as read. */
  readonly totalBytes: number;
  /** Why reading stopped before `totalBytes`, if it did. */
  readonly badReason?: string;
}

const NEWLINE = 0x0a;

/** Encode a save (upserts as their `JSON.stringify` lines) as one journal line. */
export function encodeJournalRecord(
  lines: readonly string[],
  deletes: readonly string[],
): Buffer {
  const body = Buffer.from(
    `{"u":[${lines.join(',')}],"d":${JSON.stringify(deletes)}}`,
  );
  const crc = (crc32(body) >>> 0).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(`${crc} `), body, Buffer.from('\n')]);
}

/** Decode a journal file's bytes, stopping at the first torn or damaged line. */
export function decodeJournal(data: Buffer): DecodedJournal {
  const records: JournalRecord[] = [];
  let at = 0;
  const stop = (badReason: string): DecodedJournal => ({
    records,
    validBytes: at,
    totalBytes: data.length,
    badReason,
  });
  while (at < data.length) {
    const end = data.indexOf(NEWLINE, at);
    if (end === -1) return stop('torn line (no newline)');
    if (end - at < 10 || data[at + 8] !== 0x20) return stop('malformed line');
    const want = Number.parseInt(data.toString('latin1', at, at + 8), 16);
    const body = data.subarray(at + 9, end);
    if (!Number.isFinite(want) || crc32(body) >>> 0 !== want)
      return stop('checksum mismatch');
    let parsed: { u?: unknown; d?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch (error) {
      return stop(`bad JSON (${(error as Error).message})`);
    }
    const { u, d } = parsed;
    if (
      !Array.isArray(u) ||
      !Array.isArray(d) ||
      !u.every(isPosition) ||
      !d.every((k) => typeof k === 'string')
    )
      return stop('malformed record');
    records.push({
      upserts: u,
      lines: u.map((p) => JSON.stringify(p)),
      deletes: d as string[],
    });
    at = end + 1;
  }
  return { records, validBytes: at, totalBytes: data.length };
}

function isPosition(p: unknown): p is Position {
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof (p as Position).kind === 'string' &&
    typeof (p as Position).id === 'string'
  );
}

/** A journal file of generation `seq` found on disk. */
export interface JournalFile {
  readonly seq: number;
  readonly path: string;
}

/** Journal files of the store file `base` in `dir`, oldest first. */
export async function listJournals(
  dir: string,
  base: string,
): Promise<JournalFile[]> {
  const prefix = `${base}.journal.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: JournalFile[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const seq = Number(name.slice(prefix.length));
    if (Number.isSafeInteger(seq) && seq >= 0)
      out.push({ seq, path: join(dir, name) });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** Path of journal generation `seq`. */
export function journalPath(dir: string, base: string, seq: number): string {
  return join(dir, `${base}.journal.${seq}`);
}

/** Read a journal file; an absent file reads as empty. */
export async function readJournal(path: string): Promise<DecodedJournal> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { records: [], validBytes: 0, totalBytes: 0 };
    throw error;
  }
  return decodeJournal(data);
}

/** Cut a journal back to its valid part (drop a torn tail). */
export async function truncateJournal(
  path: string,
  validBytes: number,
): Promise<void> {
  await truncate(path, validBytes);
}

/** Delete journal files, ignoring ones already gone. */
export async function removeJournals(
  files: readonly JournalFile[],
): Promise<void> {
  for (const f of files) await unlink(f.path).catch(() => {});
}

/**
 * The open journal being appended to. A failed append (disk full) is cut
 * off again before the next one, so a half-written line never sits in front
 * of later valid ones.
 */
export class JournalAppender {
  readonly path: string;
  readonly seq: number;
  private handle: FileHandle | undefined;
  /** Bytes known to hold whole lines. */
  private good: number;
  private dirtyTail = false;
  private unsynced = false;

  private constructor(path: string, seq: number, size: number) {
    this.path = path;
    this.seq = seq;
    this.good = size;
  }

  /** Open (creating) generation `seq`, whose valid part is `size` bytes. */
  static async open(
    path: string,
    seq: number,
    size: number,
  ): Promise<JournalAppender> {
    const j = new JournalAppender(path, seq, size);
    j.handle = await open(path, 'a');
    // A torn tail past the valid part is cut off before the first append.
    j.dirtyTail = (await j.handle.stat()).size > size;
    return j;
  }

  /** Bytes of whole lines written. */
  get size(): number {
    return this.good;
  }

  /** Append one encoded record; fsync when `sync` is set. */
  async append(record: Buffer, sync: boolean): Promise<void> {
    const h = this.requireHandle();
    if (this.dirtyTail) {
      await h.truncate(this.good);
      this.dirtyTail = false;
    }
    try {
      let written = 0;
      while (written < record.length) {
        const { bytesWritten } = await h.write(record, written);
        written += bytesWritten;
      }
      if (sync) await h.datasync();
    } catch (error) {
      this.dirtyTail = true;
      throw error;
    }
    this.good += record.length;
    this.unsynced = !sync;
  }

  /** fsync what was appended without it. */
  async sync(): Promise<void> {
    if (!this.unsynced || this.handle === undefined) return;
    this.unsynced = false;
    try {
      await this.handle.datasync();
    } catch (error) {
      this.unsynced = true;
      throw error;
    }
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h === undefined) return;
    try {
      if (this.dirtyTail) await h.truncate(this.good);
    } finally {
      await h.close();
    }
  }

  private requireHandle(): FileHandle {
    if (this.handle === undefined) throw new Error('journal is closed');
    return this.handle;
  }
}

/** What {@link replayJournals} hands back for each record and damage. */
export interface ReplayHandlers {
  upsert(p: Position, line: string): void;
  remove(key: string): void;
  /** A journal ends before its size: a torn or damaged record. */
  damaged(
    file: string,
    validBytes: number,
    droppedBytes: number,
    reason: string,
  ): void;
}

/** The journals after a replay. */
export interface ReplayedJournals {
  /** Generations from `fromSeq` on, oldest first (still to be folded in). */
  readonly journals: JournalFile[];
  /** Valid bytes of the newest one (appends continue there). */
  readonly newestValidBytes: number;
  /** Older generations the snapshot already holds (to delete at the first write). */
  readonly stale: JournalFile[];
}

/**
 * Replay, in order, every journal of `base` in `dir` from generation
 * `fromSeq` on, each up to its last valid record.
 */
export async function replayJournals(
  dir: string,
  base: string,
  fromSeq: number,
  on: ReplayHandlers,
): Promise<ReplayedJournals> {
  const all = await listJournals(dir, base);
  const journals = all.filter((j) => j.seq >= fromSeq);
  let newestValidBytes = 0;
  for (const [i, j] of journals.entries()) {
    const got = await readJournal(j.path);
    for (const r of got.records) {
      r.upserts.forEach((p, k) => on.upsert(p, r.lines[k] as string));
      for (const key of r.deletes) on.remove(key);
    }
    if (got.badReason !== undefined)
      on.damaged(
        j.path,
        got.validBytes,
        got.totalBytes - got.validBytes,
        got.badReason,
      );
    if (i === journals.length - 1) newestValidBytes = got.validBytes;
  }
  return {
    journals,
    newestValidBytes,
    stale: all.filter((j) => j.seq < fromSeq),
  };
}
