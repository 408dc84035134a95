// Opening a log directory: load acks, validate every segment (trusting
// sealed segments' indexes, scanning the rest), heal what is damaged, and
// work out the next sequence number. Damage never makes this throw; only a
// missing or wrong encryption key does.
import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LcError } from '@lc/core';
import { AckJournal } from './ack-journal.js';
import type { AckSet } from './ack-set.js';
import { FRAME_TYPE_RECORD } from './frame.js';
import { quarantineFile, quarantineRange } from './quarantine.js';
import { frameRange, scanSegment } from './record-codec.js';
import {
  SEGMENT_HEADER_BYTES,
  decodeSegmentHeader,
  indexFileName,
  parseSegmentFileName,
} from './segment-file.js';
import {
  newSegmentMeta,
  noteFrame,
  readSegmentIndex,
  writeSegmentIndex,
  type SegmentMeta,
} from './segment-meta.js';

export type CorruptionReason =
  | 'torn-tail'
  | 'bad-frame'
  | 'bad-block'
  | 'empty-segment'
  | 'bad-header'
  | 'missing-segment'
  | 'ack-journal-torn'
  | 'ack-checkpoint-corrupt';

export interface RecoveryContext {
  directory: string;
  keyCheck: Buffer;
  hasKey: boolean;
  /** Count and log one damage event. */
  report(
    reason: CorruptionReason,
    details: Record<string, unknown>,
    quarantinedBytes: number,
  ): void;
  /** Account for unacknowledged seqs lost to damage, returns how many. */
  markLost(acks: AckSet, from: number, to: number): number;
  onError(error: unknown): void;
}

export interface Recovered {
  segments: SegmentMeta[];
  nextSeq: number;
  acks: AckSet;
  journal: AckJournal;
}

/** The first seq a fresh log hands out. */
export const FIRST_SEQ = 1;

export async function recoverDirectory(
  ctx: RecoveryContext,
): Promise<Recovered> {
  const { directory } = ctx;
  await mkdir(directory, { recursive: true });
  const loaded = await AckJournal.open(directory);
  for (const p of loaded.problems) ctx.report(p.kind, { file: 'acks' }, 0);
  const acks = loaded.acks;
  const names = await readdir(directory);
  for (const n of names) {
    if (n.endsWith('.tmp'))
      await unlink(join(directory, n)).catch(() => undefined);
  }
  const segNames = names
    .map((n) => ({ n, seq: parseSegmentFileName(n) }))
    .filter((x): x is { n: string; seq: number } => x.seq !== undefined)
    .sort((a, b) => a.seq - b.seq);
  let nextSeq = Math.max(FIRST_SEQ, loaded.nextSeqHint);
  const segments: SegmentMeta[] = [];
  for (const { n, seq } of segNames) {
    nextSeq = Math.max(nextSeq, seq);
    const meta = await recoverSegment(ctx, n, acks);
    if (meta === undefined) continue;
    nextSeq = Math.max(nextSeq, meta.lastSeq + 1);
    if (meta.count === 0) {
      await unlink(join(directory, n)).catch(() => undefined);
      await unlink(join(directory, indexFileName(n))).catch(() => undefined);
      continue;
    }
    segments.push(meta);
  }
  // Orphan indexes (their segment was deleted or quarantined).
  const live = new Set(segments.map((s) => indexFileName(s.name)));
  for (const n of names) {
    if (n.endsWith('.idx') && !live.has(n))
      await unlink(join(directory, n)).catch(() => undefined);
  }
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1] as SegmentMeta;
    const cur = segments[i] as SegmentMeta;
    const from = prev.lastSeq + 1;
    const to = cur.firstSeq - 1;
    if (to >= from && !acks.coversRange(from, to)) {
      const lost = ctx.markLost(acks, from, to);
      ctx.report('missing-segment', { fromSeq: from, toSeq: to, lost }, 0);
    }
  }
  // A seq acknowledged before a crash must never be handed out again, even
  // when the record itself did not survive (fsync=interval/never).
  nextSeq = Math.max(nextSeq, acks.max() + 1);
  acks.dropBelow(segments[0]?.firstSeq ?? nextSeq);
  // Best effort: on a full disk the journal alone still holds the acks.
  await loaded.journal
    .checkpoint(acks, nextSeq)
    .catch((error: unknown) => ctx.onError(error));
  return { segments, nextSeq, acks, journal: loaded.journal };
}

async function recoverSegment(
  ctx: RecoveryContext,
  name: string,
  acks: AckSet,
): Promise<SegmentMeta | undefined> {
  const { directory } = ctx;
  const path = join(directory, name);
  const size = (await stat(path)).size;
  if (size < SEGMENT_HEADER_BYTES) {
    const q = await quarantineFile(directory, name, 'empty-segment');
    await unlink(join(directory, indexFileName(name))).catch(() => undefined);
    ctx.report(
      'empty-segment',
      { segment: name, bytes: size, quarantine: q.path },
      q.bytes,
    );
    return undefined;
  }
  const handle = await open(path, 'r+');
  try {
    const head = Buffer.alloc(SEGMENT_HEADER_BYTES);
    await handle.read(head, 0, SEGMENT_HEADER_BYTES, 0);
    const header = decodeSegmentHeader(head);
    if (header === undefined) {
      await handle.close();
      const q = await quarantineFile(directory, name, 'bad-header');
      await unlink(join(directory, indexFileName(name))).catch(() => undefined);
      ctx.report('bad-header', { segment: name, quarantine: q.path }, q.bytes);
      return undefined;
    }
    if (header.encrypted && !ctx.hasKey) {
      throw new LcError({
        code: 'LC_ERR_DECRYPT',
        message: `buffer segment ${path} is encrypted but no encryptionKey was given`,
        details: { path },
      });
    }
    if (header.encrypted && !header.keyCheck.equals(ctx.keyCheck)) {
      throw new LcError({
        code: 'LC_ERR_DECRYPT',
        message: `buffer segment ${path} was written with a different encryptionKey`,
        details: { path },
      });
    }
    const indexed = await readSegmentIndex(directory, name, size);
    if (indexed !== undefined) return indexed;
    const meta = newSegmentMeta(
      name,
      header.firstSeq,
      SEGMENT_HEADER_BYTES,
      header.createdAtMs,
      header.encrypted,
    );
    let lastSeen = header.firstSeq - 1;
    let gap = false;
    let truncateAt: number | undefined;
    for await (const item of scanSegment(handle, SEGMENT_HEADER_BYTES, size)) {
      if (item.kind === 'frame') {
        const range = frameRange(item);
        if (gap && range.firstSeq - 1 >= lastSeen + 1)
          ctx.markLost(acks, lastSeen + 1, range.firstSeq - 1);
        gap = false;
        const isRecord = item.header.type === FRAME_TYPE_RECORD;
        const source =
          isRecord && item.header.aux > 0
            ? item.frame.toString('utf8', 32, 32 + item.header.aux)
            : undefined;
        noteFrame(
          meta,
          item.offset,
          item.frame.length,
          range,
          isRecord ? 1 : item.header.aux,
          isRecord ? [source] : null,
        );
        lastSeen = Math.max(lastSeen, range.lastSeq);
        continue;
      }
      const q = await quarantineRange(
        directory,
        name,
        handle,
        item.from,
        item.to,
        item.reason,
      );
      ctx.report(
        item.reason,
        { segment: name, from: item.from, to: item.to, quarantine: q.path },
        q.bytes,
      );
      if (item.reason === 'torn-tail') truncateAt = item.from;
      else gap = true;
    }
    if (truncateAt !== undefined) {
      await handle.truncate(truncateAt);
      await handle.datasync();
    }
    meta.bytes = truncateAt ?? size;
    meta.sealed = true;
    // Best effort (disk full must not stop the log from opening).
    if (meta.count > 0)
      await writeSegmentIndex(directory, meta).catch((error: unknown) =>
        ctx.onError(error),
      );
    return meta;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
