import { appendFile, copyFile, rename, truncate } from 'node:fs/promises';

/** How {@link LineWriter.rotate} rotates the live file. */
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
}

/** Appends numbered lines in the background, rotating as configured. */
export interface LineWriter {
  /** Every line written so far (what the sink must end up with). */
  readonly written: readonly string[];
  /** Rotations done so far. */
  rotations(): number;
  /** Stops after the append in progress; resolves when stopped. */
  stop(): Promise<void>;
}

/**
 * Starts a writer loop. `create` renames the live file to
 * `<path>.<n>` and starts a new one; `copytruncate` copies it to
 * `<path>.<n>` then truncates it, with no append in between (the writer
 * is this loop), so the copy→truncate race never loses a line.
 */
export function createLineWriter(options: LineWriterOptions): LineWriter {
  const per = options.linesPerWrite ?? 50;
  const interval = options.intervalMs ?? 20;
  const rotateEvery = options.rotateEvery ?? 0;
  const written: string[] = [];
  let running = true;
  let rotations = 0;
  let appends = 0;
  const loop = (async () => {
    while (running) {
      let text = '';
      for (let i = 0; i < per; i++) {
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
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  })();
  return {
    written,
    rotations: () => rotations,
    async stop() {
      running = false;
      await loop;
    },
  };
}
