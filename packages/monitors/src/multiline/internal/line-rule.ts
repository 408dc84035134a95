/**
 * Where a rule puts a line:
 * - `start`: the pending record (if any) is emitted; the line begins a new one;
 * - `continue`: the line is appended to the pending record (or begins one);
 * - `end`: the line is appended (or begins a record), then the record is emitted;
 * - `single`: the pending record is emitted, then the line alone, at once.
 */
export type LineRole = 'start' | 'continue' | 'end' | 'single';

/** Decides, line by line, where records begin and end. One per stream. */
export interface LineRule {
  /** Where `text` goes; `pending` is true while a record is being built. */
  classify(text: string, pending: boolean): LineRole;
  /** The pending record was emitted by a timeout or a flush: forget any state. */
  reset(): void;
}

/**
 * The rule of one pattern (see `MultilineOptions` for the semantics of
 * each mode and of `negate`). Stateless.
 */
export function patternRule(
  mode: 'start' | 'continue' | 'end',
  pattern: RegExp,
  negate: boolean,
): LineRule {
  const hit: LineRole =
    mode === 'start' ? 'start' : mode === 'continue' ? 'continue' : 'end';
  const miss: LineRole = mode === 'continue' ? 'start' : 'continue';
  return {
    classify: (text) => (pattern.test(text) !== negate ? hit : miss),
    reset: () => undefined,
  };
}
