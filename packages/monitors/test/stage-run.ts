import type {
  SplitLine,
  SplitterCounters,
} from '../src/file/internal/line-splitter.js';
import { LineSplitter } from '../src/file/internal/line-splitter.js';
import type { LineStage } from '../src/file/internal/line-stage.js';

/** What a line stage made of some bytes of a file. */
export interface StageRun {
  readonly records: SplitLine[];
  /** Emit what is held (the file ended: the splitter flushes its partial line). */
  flush(): SplitLine[];
}

/** Fresh long-line counters, all zero. */
export function newCounters(): SplitterCounters {
  return { truncatedLines: 0, skippedLines: 0, invalidChars: 0 };
}

/**
 * Feeds `bytes` (read from file offset `startOffset`, default 0) through a
 * real UTF-8 `LineSplitter` (lines cut at `splitterMaxBytes`, counted in
 * `counters`) into `stage`, in chunks of the sizes `chunks` (cycled; one
 * chunk by default).
 */
export function runStage(
  stage: LineStage,
  bytes: Buffer,
  options: {
    readonly splitterMaxBytes: number;
    readonly counters: SplitterCounters;
    readonly startOffset?: number | undefined;
    readonly chunks?: readonly number[] | undefined;
  },
): StageRun {
  const splitter = new LineSplitter(
    'utf8',
    options.splitterMaxBytes,
    'truncate',
    options.counters,
    options.startOffset ?? 0,
    0,
    stage,
  );
  const records: SplitLine[] = [];
  const sizes = options.chunks ?? [bytes.length];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length] ?? bytes.length);
    splitter.feed(bytes.subarray(at, at + n), records);
    at += n;
  }
  return {
    records,
    flush() {
      const out: SplitLine[] = [];
      splitter.flushPartial(out);
      return out;
    },
  };
}
