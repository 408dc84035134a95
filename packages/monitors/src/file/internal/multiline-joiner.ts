import type { SplitLine } from './line-splitter.js';

/**
 * How lines are joined into one record. Exactly one of the patterns:
 * - `startPattern`: a matching line starts a new record; other lines are
 *   appended to the current one (Java stack traces, Python tracebacks).
 * - `continuePattern`: a matching line is appended to the previous record.
 * - `endPattern`: lines accumulate until a matching line ends the record.
 */
export interface MultilineOptions {
  startPattern?: RegExp | string;
  continuePattern?: RegExp | string;
  endPattern?: RegExp | string;
  /** Emit a record once it has this many lines. @default 500 */
  maxLines?: number;
  /** Emit a record once its text reaches this many UTF-16 units. @default 1_048_576 */
  maxBytes?: number;
  /** Emit a pending record after this long without a new line, ms. @default 1000 */
  flushTimeoutMs?: number;
  /** Joins the lines of a record. @default '\n' */
  separator?: string;
}

/** A joined record: the text and the position of its last line. */
export type JoinedLine = SplitLine;

/** Resolved multiline settings, validated once at construction. */
export interface MultilineConfig {
  readonly mode: 'start' | 'continue' | 'end';
  readonly pattern: RegExp;
  readonly maxLines: number;
  readonly maxBytes: number;
  readonly flushTimeoutMs: number;
  readonly separator: string;
}

/** Joins split lines per the configured mode; one instance per file identity. */
export class MultilineJoiner {
  private parts: string[] = [];
  private size = 0;
  private last: SplitLine | undefined;
  /** Monotonic ms when the last line was added. */
  lastAddedAt = 0;

  private readonly config: MultilineConfig;

  constructor(config: MultilineConfig) {
    this.config = config;
  }

  /** True when lines are waiting for more. */
  get pending(): boolean {
    return this.parts.length > 0;
  }

  /** Add one line; completed records go to `out`. */
  push(line: SplitLine, now: number, out: JoinedLine[]): void {
    const { mode, pattern } = this.config;
    const matches = pattern.test(line.text);
    this.lastAddedAt = now;
    if (mode === 'start') {
      if (matches) this.flush(out);
      this.add(line, out);
    } else if (mode === 'continue') {
      if (!matches) this.flush(out);
      this.add(line, out);
    } else {
      this.add(line, out);
      if (matches) this.flush(out);
    }
  }

  /** Emit whatever is pending as one record. */
  flush(out: JoinedLine[]): void {
    if (this.last === undefined) return;
    const text =
      this.parts.length === 1
        ? (this.parts[0] as string)
        : this.parts.join(this.config.separator);
    out.push({ ...this.last, text });
    this.parts = [];
    this.size = 0;
    this.last = undefined;
  }

  /** Forget pending lines (the file was truncated before they were emitted). */
  clear(): void {
    this.parts = [];
    this.size = 0;
    this.last = undefined;
  }

  private add(line: SplitLine, out: JoinedLine[]): void {
    if (
      this.parts.length > 0 &&
      this.size + line.text.length > this.config.maxBytes
    ) {
      this.flush(out);
    }
    this.parts.push(line.text);
    this.size += line.text.length + this.config.separator.length;
    this.last = line;
    if (
      this.parts.length >= this.config.maxLines ||
      this.size >= this.config.maxBytes
    ) {
      this.flush(out);
    }
  }
}
