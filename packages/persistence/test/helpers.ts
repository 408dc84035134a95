import { LcError } from '@lc/core';
import type { LogRecord, PersistedBatch } from '@lc/core';

/** Deterministic records for batch `id` (content checkable after recovery). */
export function makeRecords(id: string, count = 3): LogRecord[] {
  const labels = Object.freeze({ batch: id });
  const source = { kind: 'file', id: `dev:${id}` };
  return Array.from({ length: count }, (_, i) => ({
    timestampMs: 1_700_000_000_000 + i,
    timestampNanos: (i * 7919) % 1_000_000,
    line: `batch ${id} line ${i} ✓`,
    labels,
    source,
    cursor: { offset: i * 100, line: i },
  }));
}

/** A batch with deterministic content. */
export function makeBatch(
  id: string,
  sinks: readonly string[] = ['a'],
  count = 3,
  createdAtMs = Date.now(),
): PersistedBatch {
  return { id, records: makeRecords(id, count), sinks, createdAtMs };
}

/** An error as a sink would report it. */
export function sinkError(message = 'boom', status?: number): LcError {
  return new LcError({
    code: 'LC_ERR_SINK_REJECTED',
    message,
    ...(status === undefined ? {} : { details: { status } }),
  });
}

/** Drain an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
