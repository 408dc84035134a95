import type { Labels, LogRecord } from '@lc/core';

/**
 * One record on its way through a pipeline, as a step sees it. Steps read
 * the current values and change them through the setters; the processor
 * builds a new {@link LogRecord} only when something changed, so a record
 * no step touched is passed on as the very same object. The input record
 * is never mutated.
 */
export interface StepContext {
  /** The record as it entered the pipeline (source, cursor, original line). */
  readonly record: LogRecord;
  /** The line now. */
  readonly line: string;
  /** The labels now (frozen, shared: change them with {@link setLabels}). */
  readonly labels: Labels;
  /** Structured metadata now, if any. */
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** Event time now, ms since the epoch. */
  readonly timestampMs: number;
  /** Nanoseconds within {@link timestampMs} (0–999,999). */
  readonly timestampNanos: number;
  /**
   * Fields parsed by earlier steps (`json_parse`, `logfmt_parse`,
   * `regex_extract`, {@link addFields}); undefined before any parse.
   */
  readonly fields: Readonly<Record<string, unknown>> | undefined;
  /** Replace the line. */
  setLine(line: string): void;
  /**
   * Set labels copy-on-write; a value of `undefined` removes the label.
   * Records of one source that end up with the same labels share one
   * frozen object.
   */
  setLabels(patch: Readonly<Record<string, string | undefined>>): void;
  /** Set metadata entries copy-on-write. */
  setMetadata(patch: Readonly<Record<string, string>>): void;
  /** Set the event time. */
  setTimestamp(timestampMs: number, timestampNanos?: number): void;
  /** Merge fields for later steps (conditions, templates, promotions). */
  addFields(fields: Readonly<Record<string, unknown>>): void;
}
