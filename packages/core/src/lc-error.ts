import type { LcErrorCode } from './lc-error-code.js';

const MARKER = Symbol.for('lc.error');

/** Options for {@link LcError}. */
export interface LcErrorOptions {
  /** Stable code, listed in `docs/errors.md`. */
  code: LcErrorCode;
  /** Human-readable message naming the input and what was wrong. */
  message: string;
  /** The underlying error, if any. */
  cause?: unknown;
  /**
   * Structured context for logs and APIs (file path and offset, container
   * id, config path, HTTP status...). Values must be JSON-serialisable.
   */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error class of lc. Expected failures travel as values carrying an
 * `LcError`; thrown `LcError`s signal invalid options or bugs.
 */
export class LcError extends Error {
  /** Stable machine-readable code. */
  readonly code: LcErrorCode;
  /** Structured context; empty object when none was given. */
  readonly details: Readonly<Record<string, unknown>>;
  private readonly [MARKER] = true;

  constructor(options: LcErrorOptions) {
    super(options.message, { cause: options.cause });
    this.name = 'LcError';
    this.code = options.code;
    this.details = options.details ?? {};
  }

  /**
   * True for any `LcError`, including one created by another copy of
   * `@lc/core` (duplicate installs), optionally with the given code.
   */
  static isInstance(error: unknown, code?: LcErrorCode): error is LcError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[MARKER] === true &&
      (code === undefined || (error as LcError).code === code)
    );
  }

  /** Plain JSON form for APIs, logs and the dead-letter store. */
  toJSON(): {
    code: LcErrorCode;
    message: string;
    details: Readonly<Record<string, unknown>>;
  } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * Wrap anything thrown into an `LcError`, keeping an existing one as is.
 * Used where a foreign library's failure has to become a value.
 */
export function toLcError(
  error: unknown,
  code: LcErrorCode,
  message?: string,
): LcError {
  if (LcError.isInstance(error)) return error;
  const text = error instanceof Error ? error.message : String(error);
  return new LcError({
    code,
    message: message === undefined ? text : `${message}: ${text}`,
    cause: error,
  });
}
