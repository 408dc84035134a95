import { afterEach, describe, expect, it } from 'vitest';
import { LcError, WriteResults } from '@lc/core';
import type {
  DeadLetterEntry,
  DeadLetterStore,
  LogRecord,
  Sink,
  WriteResult,
} from '@lc/core';

/** What the dead-letter store contract suite needs from a factory. */
export interface DeadLetterStoreContractSubject {
  store: DeadLetterStore;
  /** Open the same storage again after the suite closed `store` (restart). */
  reopen?: () => Promise<DeadLetterStore>;
  /** Release whatever the factory created. */
  cleanup?: () => Promise<void>;
}

const T0 = 1_700_000_000_000;

/** Dead-letter entries for tests: `n` records of `sink` failed at `atMs`. */
export function makeDeadLetters(
  n: number,
  sink: string,
  code: string,
  atMs = T0,
): Omit<DeadLetterEntry, 'id'>[] {
  const labels = Object.freeze({ sink });
  return Array.from({ length: n }, (_, i) => ({
    record: {
      timestampMs: atMs + i,
      timestampNanos: i,
      line: `${sink} ${code} ${atMs} #${i}`,
      labels,
      source: { kind: 'file', id: 'dev:1' },
      cursor: { offset: i * 10, line: i },
    },
    sink,
    reason: { code, message: `${code} happened`, status: 400 },
    attempts: 2,
    firstFailureAtMs: atMs - 5,
    lastFailureAtMs: atMs,
  }));
}

function scriptedSink(
  results: WriteResult[],
): Sink & { received: LogRecord[] } {
  const received: LogRecord[] = [];
  return {
    name: 'replay-target',
    received,
    async write(batch) {
      const result = results.shift() ?? WriteResults.success();
      if (result.status === 'success') received.push(...batch);
      if (result.status === 'partial') {
        const failed = new Set(result.failed.map((f) => f.index));
        batch.forEach((r, i) => {
          if (!failed.has(i)) received.push(r);
        });
      }
      return result;
    },
    async flush() {},
    async shutdown() {},
  };
}

/**
 * Conformance suite for a {@link DeadLetterStore}: run it with one line to
 * prove a custom store keeps the contract the dispatcher and the admin API
 * rely on.
 */
export function describeDeadLetterStoreContract(
  name: string,
  factory: () =>
    DeadLetterStoreContractSubject | Promise<DeadLetterStoreContractSubject>,
): void {
  describe(`DeadLetterStore contract: ${name}`, () => {
    let subject: DeadLetterStoreContractSubject | undefined;
    const reopened: DeadLetterStore[] = [];
    const make = async (): Promise<DeadLetterStoreContractSubject> => {
      subject = await factory();
      return subject;
    };
    afterEach(async () => {
      for (const s of reopened.splice(0)) await s.close();
      await subject?.store.close();
      await subject?.cleanup?.();
      subject = undefined;
    });

    it('should list added entries oldest first with unique ids', async () => {
      const { store } = await make();
      await store.add(makeDeadLetters(3, 'loki', 'LC_ERR_SINK_REJECTED'));
      await store.add(
        makeDeadLetters(2, 'kafka', 'LC_ERR_SINK_REJECTED', T0 + 10),
      );
      const list = await store.list();
      expect(list.map((e) => e.record.line)).toEqual(
        [
          ...makeDeadLetters(3, 'loki', 'LC_ERR_SINK_REJECTED'),
          ...makeDeadLetters(2, 'kafka', 'LC_ERR_SINK_REJECTED', T0 + 10),
        ].map((e) => e.record.line),
      );
      expect(new Set(list.map((e) => e.id)).size).toBe(5);
      expect(list[0]).toMatchObject({
        sink: 'loki',
        attempts: 2,
        firstFailureAtMs: T0 - 5,
        lastFailureAtMs: T0,
        reason: { code: 'LC_ERR_SINK_REJECTED', status: 400 },
      });
      expect(await store.count()).toBe(5);
    });

    it('should filter by sink, code and time and page with limit/offset', async () => {
      const { store } = await make();
      await store.add(makeDeadLetters(2, 'loki', 'A', T0));
      await store.add(makeDeadLetters(2, 'kafka', 'A', T0 + 1000));
      await store.add(makeDeadLetters(2, 'loki', 'B', T0 + 2000));
      expect(await store.count({ sink: 'loki' })).toBe(4);
      expect(await store.count({ code: 'A' })).toBe(4);
      expect(await store.count({ sink: 'loki', code: 'B' })).toBe(2);
      expect(await store.count({ sinceMs: T0 + 1000 })).toBe(4);
      expect(await store.count({ untilMs: T0 + 1000 })).toBe(2);
      const all = await store.list();
      const page = await store.list({ limit: 3, offset: 2 });
      expect(page.map((e) => e.id)).toEqual(all.slice(2, 5).map((e) => e.id));
    });

    it('should purge matching entries and say how many', async () => {
      const { store } = await make();
      await store.add(makeDeadLetters(2, 'loki', 'A'));
      await store.add(makeDeadLetters(3, 'kafka', 'A'));
      expect(await store.purge({ sink: 'kafka' })).toBe(3);
      expect((await store.list()).map((e) => e.sink)).toEqual(['loki', 'loki']);
      expect(await store.purge()).toBe(2);
      expect(await store.count()).toBe(0);
    });

    it('should replay: remove what the sink took, keep the rest with attempts + 1', async () => {
      const { store } = await make();
      await store.add(makeDeadLetters(4, 'loki', 'A'));
      const error = new LcError({
        code: 'LC_ERR_SINK_REJECTED',
        message: 'nope',
      });
      const sink = scriptedSink([
        WriteResults.partial([{ index: 0, retryable: false, error }], 2),
        WriteResults.success(),
      ]);
      const progress: unknown[] = [];
      const before = await store.list();
      const result = await store.replay({
        sink,
        batchSize: 2,
        onProgress: (p) => progress.push(p),
      });
      expect(result).toEqual({ replayed: 3, failed: 1 });
      expect(progress).toEqual([
        { done: 2, total: 4, failed: 1 },
        { done: 4, total: 4, failed: 1 },
      ]);
      expect(sink.received.map((r) => r.line)).toEqual(
        before.slice(1).map((e) => e.record.line),
      );
      const after = await store.list();
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({
        id: before[0]?.id,
        attempts: 3,
        reason: { code: 'LC_ERR_SINK_REJECTED', message: 'nope' },
      });
    });

    it('should reject LC_ERR_SHUT_DOWN after close, and close twice', async () => {
      const { store } = await make();
      await store.close();
      await store.close();
      await expect(store.add(makeDeadLetters(1, 'a', 'A'))).rejects.toSatisfy(
        (e: unknown) => LcError.isInstance(e, 'LC_ERR_SHUT_DOWN'),
      );
      await expect(store.list()).rejects.toMatchObject({
        code: 'LC_ERR_SHUT_DOWN',
      });
    });

    it('should keep entries across a reopen (when the subject can reopen)', async () => {
      const s = await make();
      if (s.reopen === undefined) return;
      await s.store.add(makeDeadLetters(3, 'loki', 'A'));
      await s.store.purge({ untilMs: T0 + 1 }); // removes all three: lastFailureAtMs = T0
      await s.store.add(makeDeadLetters(2, 'kafka', 'B', T0 + 50));
      await s.store.close();
      const again = await s.reopen();
      reopened.push(again);
      expect((await again.list()).map((e) => e.record.line)).toEqual(
        makeDeadLetters(2, 'kafka', 'B', T0 + 50).map((e) => e.record.line),
      );
    });
  });
}
