import type { LineRule } from './internal/line-rule.js';
import type { MultilineConfig, MultilineOptions } from './multiline-options.js';
import { resolveMultilineOptions } from './multiline-options.js';

/**
 * Why a record was emitted:
 * - `rule`: the rule completed it (a start, end or single line);
 * - `max_lines` / `max_bytes`: it reached a limit (the lines after it form
 *   the next record);
 * - `timeout`: no line came for `flushTimeoutMs`;
 * - `flush`: the owner asked (the source ended: a rotated file finished,
 *   a container stopped; or an explicit flush).
 */
export type MultilineFlushReason =
  'rule' | 'max_lines' | 'max_bytes' | 'timeout' | 'flush';

/** A line the joiner takes: anything with its text. */
export interface JoinableLine {
  /** The line, without its newline. */
  readonly text: string;
}

/** A record made of one or more consecutive lines. */
export interface JoinedRecord<L extends JoinableLine> {
  /** The lines' texts joined with the separator. */
  readonly text: string;
  /** The first line (its timestamp is the record's, for streams). */
  readonly first: L;
  /** The last line: its cursor is the record's. */
  readonly last: L;
  /** How many lines it has. */
  readonly lines: number;
  readonly reason: MultilineFlushReason;
}

/**
 * Joins the lines of ONE stream into records. Synchronous and timer-free:
 * the owner calls {@link MultilineJoiner.flush} when
 * {@link MultilineJoiner.flushDueAtMs} passes (for a ready-made timer and
 * cursor handling over several streams, see `createMultilineStreams`).
 */
export interface MultilineJoiner<L extends JoinableLine> {
  /** Add the next line, at monotonic `nowMs`; completed records go to `out`, in order. */
  push(line: L, nowMs: number, out: JoinedRecord<L>[]): void;
  /**
   * Emit the pending record, if any, to `out`, and reset the rule's state.
   * @param reason `timeout` or `flush`. @default 'flush'
   */
  flush(out: JoinedRecord<L>[], reason?: 'timeout' | 'flush'): void;
  /** Drop the pending lines and the rule's state (the source is read again from before them). */
  clear(): void;
  /** True while lines wait for more. */
  readonly pending: boolean;
  /** The first pending line, if any. */
  readonly pendingFirst: L | undefined;
  /** Monotonic ms when the pending record is due by timeout; `Infinity` when none. */
  readonly flushDueAtMs: number;
}

/**
 * Create a {@link MultilineJoiner} for one stream (a file, a container's
 * stdout). Validates `options` (throws `LcError` `LC_ERR_INVALID_OPTION`).
 * Concatenating the records' texts with the separator always gives back
 * the lines pushed, in order: nothing is dropped or reordered.
 */
export function createMultilineJoiner<L extends JoinableLine>(
  options: MultilineOptions,
): MultilineJoiner<L> {
  return new Joiner<L>(
    resolveMultilineOptions(options, 'multiline', 'createMultilineJoiner'),
  );
}

/** A joiner on settings validated already (by a monitor's options). */
export function joinerOf<L extends JoinableLine>(
  config: MultilineConfig,
): MultilineJoiner<L> {
  return new Joiner<L>(config);
}

class Joiner<L extends JoinableLine> implements MultilineJoiner<L> {
  private readonly config: MultilineConfig;
  private readonly rule: LineRule;
  private readonly sepBytes: number;
  private parts: string[] = [];
  private bytes = 0;
  private first: L | undefined;
  private last: L | undefined;
  private lastPushAtMs = 0;

  constructor(config: MultilineConfig) {
    this.config = config;
    this.rule = config.newRule();
    this.sepBytes = Buffer.byteLength(config.separator);
  }

  get pending(): boolean {
    return this.parts.length > 0;
  }

  get pendingFirst(): L | undefined {
    return this.first;
  }

  get flushDueAtMs(): number {
    return this.parts.length === 0
      ? Infinity
      : this.lastPushAtMs + this.config.flushTimeoutMs;
  }

  push(line: L, nowMs: number, out: JoinedRecord<L>[]): void {
    this.lastPushAtMs = nowMs;
    const role = this.rule.classify(line.text, this.parts.length > 0);
    if (role === 'start' || role === 'single') this.emit(out, 'rule');
    this.add(line, out);
    if (role === 'end' || role === 'single') this.emit(out, 'rule');
  }

  flush(out: JoinedRecord<L>[], reason: 'timeout' | 'flush' = 'flush'): void {
    this.emit(out, reason);
    this.rule.reset();
  }

  clear(): void {
    this.parts = [];
    this.bytes = 0;
    this.first = undefined;
    this.last = undefined;
    this.rule.reset();
  }

  private add(line: L, out: JoinedRecord<L>[]): void {
    const size = Buffer.byteLength(line.text);
    const { maxBytes, maxLines } = this.config;
    if (this.parts.length > 0 && this.bytes + this.sepBytes + size > maxBytes)
      this.emit(out, 'max_bytes');
    this.bytes += (this.parts.length > 0 ? this.sepBytes : 0) + size;
    this.parts.push(line.text);
    this.first ??= line;
    this.last = line;
    if (this.bytes >= maxBytes) this.emit(out, 'max_bytes');
    else if (this.parts.length >= maxLines) this.emit(out, 'max_lines');
  }

  private emit(out: JoinedRecord<L>[], reason: MultilineFlushReason): void {
    const first = this.first;
    const last = this.last;
    if (first === undefined || last === undefined) return;
    out.push({
      text:
        this.parts.length === 1
          ? (this.parts[0] as string)
          : this.parts.join(this.config.separator),
      first,
      last,
      lines: this.parts.length,
      reason,
    });
    this.parts = [];
    this.bytes = 0;
    this.first = undefined;
    this.last = undefined;
  }
}
