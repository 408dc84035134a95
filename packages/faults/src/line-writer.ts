import { appendFile, copyFile, rename, rm, truncate } from 'node:fs/promises';

/** How {@link LineWriter} rotates the live file. */
export type RotationMode = 'create' | 'copytruncate';

/** Options of {@link createLineWriter}. */
export interface LineWriterOptions {
  /** Live log file path. */
  readonly path: string;
  /** Line prefix; lines are `<prefix>-<n>`. */
  readonly prefix: string;
  /** Lines per append. @default 50 */
  readonly linesPerWrite?: number;
  /** Pause between appends (ms). @default 20 */
  readonly intervalMs?: number;
  /** Rotate every this many appends (0: never). @default 0 */
  readonly rotateEvery?: number;
  /** Rotation method. @default 'create' */
  readonly rotation?: RotationMode;
  /** Stop on its own after this many lines. @default unlimited */
  readonly totalLines?: number;
  /**
   * Archives kept, as logrotate's `rotate N`: older ones are deleted.
   * @default unlimited
   */
  readonly keepArchives?: number;
}

/** Appends numbered lines in the background, rotating as configured. */
export interface LineWriter {
  /** Every line written so far (what the sink must end up with). */
  readonly written: readonly string[];
  /** Rotations done so far. */
  rotations(): number;
  /**
   * Each rotation so far: when it was done (ms since the epoch) and how
   * many lines had been written before it (all of them are in rotated
   * generations from then on).
   */
  readonly rotationLog: readonly {
    readonly atMs: number;
    readonly linesBefore: number;
  }[];
  /** Archives deleted so far (past `keepArchives`). */
  deleted(): number;
  /** Resolves when `totalLines` are written (or the writer was stopped). */
  readonly done: Promise<void>;
  /** Stops after the append in progress; resolves when stopped. */
  stop(): Promise<void>;
}

/**
 * Starts a writer loop at once, independent of any agent. `create` renames
 * the live file to `<path>.<n>` and starts a new one; `copytruncate`
 * copies it to `<path>.<n>` then truncates it, with no append in between
 * (the writer is this loop), so the copy→truncate race never loses a line.
 */
export function createLineWriter(options: LineWriterOptions): LineWriter {
  const per = options.linesPerWrite ?? 50;
  const interval = options.intervalMs ?? 20;
  const rotateEvery = options.rotateEvery ?? 0;
  const total = options.totalLines ?? Number.POSITIVE_INFINITY;
  const keep = options.keepArchives ?? Number.POSITIVE_INFINITY;
  const written: string[] = [];
  const rotationLog: { atMs: number; linesBefore: number }[] = [];
  let running = true;
  let rotations = 0;
  let deleted = 0;
  let appends = 0;
  const done = (async () => {
    while (running && written.length < total) {
      let text = '';
      for (let i = 0; i < per && written.length < total; i++) {
        const l = `${options.prefix}-${written.length}`;
        written.push(l);
        text += `${l}\n`;
      }
      await appendFile(options.path, text);
      appends++;
      if (rotateEvery > 0 && appends % rotateEvery === 0) {
        rotations++;
        const to = `${options.path}.${rotations}`;
        if (options.rotation === 'copytruncate') {
          await copyFile(options.path, to);
          await truncate(options.path, 0);
        } else await rename(options.path, to);
        rotationLog.push({ atMs: Date.now(), linesBefore: written.length });
        if (rotations > keep) {
          await rm(`${options.path}.${rotations - keep}`, { force: true });
          deleted++;
        }
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  })();
  return {
    written,
    rotationLog,
    rotations: () => rotations,
    deleted: () => deleted,
    done,
    async stop() {
      running = false;
      await done;
    },
  };
}
