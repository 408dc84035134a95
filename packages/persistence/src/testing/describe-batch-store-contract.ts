import { afterEach, describe, expect, it } from 'vitest';
import { LcError } from '@lc/core';
import type {
  BatchStore,
  DeadLetterStore,
  LogRecord,
  PersistedBatch,
  RecoveredBatch,
} from '@lc/core';

/** What the batch store contract suite needs from a factory. */
export interface BatchStoreContractSubject {
  /**
   * Open the store. Called again after the suite shut the previous
   * instance down: the new one must see the same storage (a restart).
   */
  open(): Promise<BatchStore>;
  /** Where the store dead-letters, as seen from the given instance. */
  deadLettersOf?(store: BatchStore): DeadLetterStore;
  /** Release whatever the factory created. */
  cleanup?(): Promise<void>;
}

/** A batch with deterministic records for contract tests. */
export function makeContractBatch(
  id: string,
  sinks: readonly string[],
  count = 3,
): PersistedBatch {
  const labels = Object.freeze({ batch: id });
  const records: LogRecord[] = Array.from({ length: count }, (_, i) => ({
    timestampMs: 1_700_000_000_000 + i,
    timestampNanos: i * 1000 + 1,
    line: `${id} line ${i}`,
    labels,
    source: { kind: 'file', id: `src-${id}` },
    cursor: { offset: (i + 1) * 100, line: i + 1 },
  }));
  return { id, records, sinks, createdAtMs: 1_700_000_000_000 };
}

const sinkError = (): LcError =>
  new LcError({ code: 'LC_ERR_SINK_REJECTED', message: 'rejected' });

async function drain(
  it: AsyncIterable<RecoveredBatch>,
): Promise<RecoveredBatch[]> {
  const out: RecoveredBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

/**
 * Conformance suite for a {@link BatchStore}: settling per sink, the admin
 * view, recovery across restarts and to each new consumer, dead-lettering and
 * `LC_ERR_SHUT_DOWN` after shutdown.
 */
export function describeBatchStoreContract(
  name: string,
  factory: () => BatchStoreContractSubject | Promise<BatchStoreContractSubject>,
): void {
  describe(`BatchStore contract: ${name}`, () => {
    let subject: BatchStoreContractSubject | undefined;
    let current: BatchStore | undefined;
    const start = async (): Promise<BatchStore> => {
      subject = await factory();
      current = await subject.open();
      return current;
    };
    const restart = async (): Promise<BatchStore> => {
      await current?.shutdown();
      current = await (subject as BatchStoreContractSubject).open();
      return current;
    };
    afterEach(async () => {
      await current?.shutdown();
      await subject?.cleanup?.();
      subject = undefined;
      current = undefined;
    });

    it('should hold a batch until every sink delivered it', async () => {
      const store = await start();
      await store.persist(makeContractBatch('b1', ['a', 'b'], 2));
      expect(store.pending()).toEqual([
        expect.objectContaining({ id: 'b1', records: 2 }),
      ]);
      expect([...(store.pending()[0]?.pendingSinks ?? [])].sort()).toEqual([
        'a',
        'b',
      ]);
      await store.markDelivered('b1', 'a');
      expect(store.pending()[0]?.pendingSinks).toEqual(['b']);
      await store.markDelivered('b1', 'b');
      expect(store.pending()).toEqual([]);
    });

    it('should show failed attempts in the admin view', async () => {
      const store = await start();
      await store.persist(makeContractBatch('b1', ['a']));
      await store.markFailed('b1', 'a', sinkError(), 3, 1_700_000_100_000);
      expect(store.pending()[0]).toMatchObject({
        attempts: { a: 3 },
        nextAttemptAtMs: 1_700_000_100_000,
        lastError: { code: 'LC_ERR_SINK_REJECTED' },
      });
    });

    it('should recover the unsettled batches of the previous run with their pending sinks', async () => {
      let store = await start();
      await store.persist(makeContractBatch('b1', ['a', 'b']));
      await store.persist(makeContractBatch('b2', ['a']));
      await store.persist(makeContractBatch('b3', ['a']));
      await store.markDelivered('b1', 'a');
      await store.markDelivered('b2', 'a');
      await store.flush();
      store = await restart();
      const recovered = await drain(store.recover());
      expect(recovered.map((b) => b.id)).toEqual(['b1', 'b3']);
      expect(recovered[0]?.pendingSinks).toEqual(['b']);
      expect(recovered[0]?.records).toEqual(
        makeContractBatch('b1', ['a', 'b']).records,
      );
      await store.markDelivered('b1', 'b');
      await store.markDelivered('b3', 'a');
      expect(await drain(store.recover())).toEqual([]);
      store = await restart();
      expect(await drain(store.recover())).toEqual([]);
    });

    it('should hand the batches of this run still pending to a later recover (a consumer replaced without a restart)', async () => {
      const store = await start();
      expect(await drain(store.recover())).toEqual([]);
      await store.persist(makeContractBatch('b1', ['a', 'b'], 2));
      await store.persist(makeContractBatch('b2', ['a']));
      await store.persist(makeContractBatch('b3', ['b']));
      await store.markDelivered('b1', 'a');
      await store.markDelivered('b2', 'a');
      const first = await drain(store.recover());
      expect(first.map((b) => [b.id, b.pendingSinks])).toEqual([
        ['b1', ['b']],
        ['b3', ['b']],
      ]);
      expect(first[0]?.records).toEqual(
        makeContractBatch('b1', ['a', 'b'], 2).records,
      );
      // The consumer that took them stopped before delivering: the next
      // one gets them again; what it delivered meanwhile is settled.
      await store.markDelivered('b3', 'b');
      const second = await drain(store.recover());
      expect(second.map((b) => [b.id, b.pendingSinks])).toEqual([
        ['b1', ['b']],
      ]);
    });

    it('should settle a sink by dead-lettering the given records', async () => {
      let store = await start();
      await store.persist(makeContractBatch('b1', ['a'], 4));
      await store.deadLetter('b1', 'a', sinkError(), {
        indexes: [0, 2],
        attempts: 5,
      });
      expect(store.pending()).toEqual([]);
      const dlq = subject?.deadLettersOf?.(store);
      if (dlq !== undefined) {
        const entries = await dlq.list();
        expect(entries.map((e) => e.record.line)).toEqual([
          'b1 line 0',
          'b1 line 2',
        ]);
        expect(entries[0]).toMatchObject({
          sink: 'a',
          attempts: 5,
          reason: { code: 'LC_ERR_SINK_REJECTED' },
        });
      }
      store = await restart();
      expect(await drain(store.recover())).toEqual([]);
    });

    it('should reject LC_ERR_SHUT_DOWN after shutdown, and shut down twice', async () => {
      const store = await start();
      await store.shutdown();
      await store.shutdown();
      await expect(
        store.persist(makeContractBatch('x', ['a'])),
      ).rejects.toSatisfy((e: unknown) =>
        LcError.isInstance(e, 'LC_ERR_SHUT_DOWN'),
      );
      await expect(store.markDelivered('x', 'a')).rejects.toMatchObject({
        code: 'LC_ERR_SHUT_DOWN',
      });
    });
  });
}
