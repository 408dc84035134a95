import { afterEach, describe, expect, it } from 'vitest';
import { LcError } from '../lc-error.js';
import { EMPTY_LABELS, freezeLabels } from '../labels.js';
import type { LogRecord } from '../log-record.js';
import type { Sink } from '../sink.js';
import type { WriteResult } from '../write-result.js';

/** What the sink contract suite needs from a factory. */
export interface SinkContractSubject {
  sink: Sink;
  /**
   * Lines the destination received so far, in delivery order, when the
   * test can read them back (a file, a broker). Enables delivery checks.
   */
  readBack?: () => Promise<string[]>;
  /** Release whatever the factory created (servers, temp dirs). */
  cleanup?: () => Promise<void>;
}

/** Options for {@link describeSinkContract}. */
export interface SinkContractOptions {
  /** Per-test timeout in ms. @default 10000 */
  timeoutMs?: number;
}

const STATUSES = new Set(['success', 'retryable', 'failure', 'partial']);

/** Records for contract tests, with nanosecond timestamps and labels. */
export function makeContractRecords(
  count: number,
  prefix = 'line',
): LogRecord[] {
  const labels = freezeLabels({ job: 'contract', env: 'test' });
  return Array.from({ length: count }, (_, i) => ({
    line: `${prefix} ${i} ${'x'.repeat(i % 7)}`,
    timestampMs: Date.now() - 1000 + i,
    timestampNanos: (i * 7919) % 1_000_000,
    labels: i % 3 === 0 ? EMPTY_LABELS : labels,
    source: { kind: 'file', id: 'contract-source' },
    cursor: { offset: i + 1, line: i + 1 },
  }));
}

function assertWriteResult(result: WriteResult): void {
  expect(STATUSES.has(result.status)).toBe(true);
  if (result.status === 'retryable' || result.status === 'failure') {
    expect(LcError.isInstance(result.error)).toBe(true);
  }
}

/**
 * The conformance suite every {@link Sink} must pass. Run it from a test
 * file with a factory that builds a fresh, working sink:
 *
 * @example
 * describeSinkContract('my sink', async () => ({ sink: createMySink() }));
 */
export function describeSinkContract(
  name: string,
  factory: () => SinkContractSubject | Promise<SinkContractSubject>,
  options: SinkContractOptions = {},
): void {
  const timeout = options.timeoutMs ?? 10_000;
  describe(`Sink contract: ${name}`, () => {
    let subject: SinkContractSubject | undefined;
    const make = async (): Promise<SinkContractSubject> => {
      subject = await factory();
      return subject;
    };
    afterEach(async () => {
      await subject?.sink.shutdown();
      await subject?.cleanup?.();
      subject = undefined;
    });

    it('should have a non-empty name', { timeout }, async () => {
      const { sink } = await make();
      expect(typeof sink.name).toBe('string');
      expect(sink.name.length).toBeGreaterThan(0);
    });

    it('should resolve success for an empty batch', { timeout }, async () => {
      const { sink } = await make();
      const result = await sink.write([], {
        signal: new AbortController().signal,
      });
      expect(result.status).toBe('success');
    });

    it(
      'should deliver a batch and resolve a valid result',
      { timeout },
      async () => {
        const { sink, readBack } = await make();
        const batch = makeContractRecords(25);
        const result = await sink.write(batch, {
          signal: new AbortController().signal,
        });
        assertWriteResult(result);
        expect(result.status).toBe('success');
        await sink.flush();
        if (readBack !== undefined) {
          const lines = await readBack();
          expect(lines).toEqual(batch.map((r) => r.line));
        }
      },
    );

    it('should not mutate the batch', { timeout }, async () => {
      const { sink } = await make();
      const batch = makeContractRecords(10);
      const snapshot = JSON.stringify(batch);
      await sink.write(batch, { signal: new AbortController().signal });
      expect(JSON.stringify(batch)).toBe(snapshot);
    });

    it(
      'should resolve, not reject, when the signal is already aborted',
      { timeout },
      async () => {
        const { sink } = await make();
        const controller = new AbortController();
        controller.abort();
        const result = await sink.write(makeContractRecords(3), {
          signal: controller.signal,
        });
        assertWriteResult(result);
      },
    );

    it('should flush and stay usable', { timeout }, async () => {
      const { sink } = await make();
      await sink.flush();
      const result = await sink.write(makeContractRecords(2), {
        signal: new AbortController().signal,
      });
      expect(result.status).toBe('success');
    });

    it('should shut down idempotently', { timeout }, async () => {
      const { sink } = await make();
      await Promise.all([sink.shutdown(), sink.shutdown()]);
      await sink.shutdown();
    });

    it(
      'should resolve failure LC_ERR_SHUT_DOWN for writes after shutdown',
      { timeout },
      async () => {
        const { sink } = await make();
        await sink.shutdown();
        const result = await sink.write(makeContractRecords(1), {
          signal: new AbortController().signal,
        });
        expect(result.status).toBe('failure');
        if (result.status === 'failure') {
          expect(result.error.code).toBe('LC_ERR_SHUT_DOWN');
        }
      },
    );
  });
}
