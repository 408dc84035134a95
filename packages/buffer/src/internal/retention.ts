// Retention: size/count limits applied before a write (drop the oldest,
// wait, or fail) and the age limit applied on a timer.
import { LcError } from '@lc/core';
import type { ResolvedOptions } from './options.js';
import type { AckSet } from './ack-set.js';
import type { ActiveSegment } from './segment-create.js';
import { SEGMENT_HEADER_BYTES } from './segment-file.js';
import type { SegmentMeta } from './segment-meta.js';

/** What retention needs from the log. */
export interface RetentionHost {
  readonly opts: ResolvedOptions;
  readonly acks: AckSet;
  /** Current segments, oldest first (the array is replaced on change). */
  segments(): readonly SegmentMeta[];
  activeSegment(): ActiveSegment | undefined;
  isClosed(): boolean;
  deleteAckedSegments(): Promise<boolean>;
  sealActive(): Promise<void>;
  dropSegment(
    meta: SegmentMeta,
    reason: 'retention-limit' | 'max-age',
  ): Promise<void>;
  /** Resolves when acknowledgements may have freed space (or at shutdown). */
  waitForSpace(): Promise<void>;
  shutDownError(): LcError;
}

export function totalBytes(segments: readonly SegmentMeta[]): number {
  let total = 0;
  for (const s of segments) total += s.bytes;
  return total;
}

function overLimit(
  host: RetentionHost,
  extraBytes: number,
  extraSegments: number,
): boolean {
  const o = host.opts;
  return (
    (o.maxTotalBytes !== undefined &&
      totalBytes(host.segments()) + extraBytes > o.maxTotalBytes) ||
    (o.maxSegments !== undefined &&
      host.segments().length + extraSegments > o.maxSegments)
  );
}

/**
 * Make room for `extraBytes` and `extraSegments` under the size/count
 * limits: fully acknowledged segments go first, then `onLimit` decides.
 */
export async function makeRoom(
  host: RetentionHost,
  extraBytes: number,
  extraSegments: number,
): Promise<void> {
  while (overLimit(host, extraBytes, extraSegments)) {
    if (await host.deleteAckedSegments()) continue;
    const a = host.activeSegment();
    if (
      a !== undefined &&
      a.meta.count > 0 &&
      host.acks.coversRange(a.meta.firstSeq, a.meta.lastSeq)
    ) {
      await host.sealActive();
      continue;
    }
    if (host.opts.onLimit === 'drop_oldest') {
      const oldestSealed = host.segments().find((s) => s.sealed);
      if (oldestSealed !== undefined) {
        await host.dropSegment(oldestSealed, 'retention-limit');
        continue;
      }
      if (a !== undefined && a.meta.count > 0 && extraSegments === 0) {
        await host.sealActive();
        extraSegments = 1;
        extraBytes += SEGMENT_HEADER_BYTES;
        continue;
      }
      return; // nothing left to drop: a single oversized write is allowed
    }
    if (host.opts.onLimit === 'fail') {
      throw new LcError({
        code: 'LC_ERR_BUFFER_FULL',
        message: `disk log ${host.opts.name} is full (maxTotalBytes=${host.opts.maxTotalBytes}, maxSegments=${host.opts.maxSegments})`,
        details: {
          diskBytes: totalBytes(host.segments()),
          segments: host.segments().length,
        },
      });
    }
    if (host.isClosed()) throw host.shutDownError();
    host.opts.logger.debug(
      { diskBytes: totalBytes(host.segments()) },
      'disk log full, writer waiting for acks',
    );
    await host.waitForSpace();
  }
}

/** Drop sealed segments whose newest record is older than `maxAgeMs`. */
export async function enforceAge(host: RetentionHost): Promise<void> {
  const maxAge = host.opts.maxAgeMs;
  if (maxAge === undefined) return;
  const cutoff = host.opts.clock.now() - maxAge;
  const a = host.activeSegment();
  if (a !== undefined && a.meta.count > 0 && a.meta.maxTs < cutoff)
    await host.sealActive();
  for (const s of [...host.segments()]) {
    if (s.sealed && s.maxTs < cutoff) await host.dropSegment(s, 'max-age');
  }
}
