import type { Position } from '@lc/core';
import { LcError, positionKey } from '@lc/core';

/** A stored position with its serialised line, reused by later writes. */
export interface Entry {
  readonly p: Position;
  readonly line: string;
}

/** Positions and their lines (as read from a snapshot) by key. */
export function entriesOf(got: {
  readonly positions: readonly Position[];
  readonly lines: readonly string[];
}): Map<string, Entry> {
  const map = new Map<string, Entry>();
  got.positions.forEach((p, i) =>
    map.set(positionKey(p), { p, line: got.lines[i] as string }),
  );
  return map;
}

/** The serialised lines, in order. */
export function linesOf(m: ReadonlyMap<string, Entry>): string[] {
  const lines: string[] = [];
  for (const e of m.values()) lines.push(e.line);
  return lines;
}

/**
 * An I/O failure of the store at `path` as an `LcError`
 * (`LC_ERR_DISK_FULL` for ENOSPC, `LC_ERR_POSITIONS_IO` otherwise),
 * counted through `count`; an `LcError` passes through unchanged.
 */
export function storeIoError(
  error: unknown,
  what: string,
  path: string,
  count: () => void,
): LcError {
  if (LcError.isInstance(error)) return error;
  count();
  const code =
    (error as NodeJS.ErrnoException).code === 'ENOSPC'
      ? 'LC_ERR_DISK_FULL'
      : 'LC_ERR_POSITIONS_IO';
  return new LcError({
    code,
    message: `position store ${path}: ${what} failed: ${(error as Error).message}`,
    cause: error,
    details: { path },
  });
}
