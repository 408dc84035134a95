// Model-based test (STYLE.md rule 19): random appends, acks, rotations
// (small segments) and restarts; after each step every unacknowledged
// record reads back exactly once, in order, and no acked one reappears.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fc } from '@fast-check/vitest';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import {
  createDiskLog,
  type DiskLog,
  type DiskLogOptions,
} from '../src/index.js';
import { collect } from './helpers.js';

interface Model {
  unacked: { seq: number; payload: string; source?: string }[];
}
interface Real {
  log: DiskLog;
  options: DiskLogOptions;
}

async function check(m: Model, r: Real): Promise<void> {
  const got = await collect(r.log.read());
  expect(
    got.map((e) => [e.seq, e.payload.toString('latin1'), e.source]),
  ).toEqual(m.unacked.map((e) => [e.seq, e.payload, e.source]));
  expect(r.log.stats().unackedRecords).toBe(m.unacked.length);
}

class AppendCommand implements fc.AsyncCommand<Model, Real> {
  readonly payloads: { payload: string; source?: string }[];
  constructor(payloads: { payload: string; source?: string }[]) {
    this.payloads = payloads;
  }
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const seqs =
      this.payloads.length === 1
        ? [
            await r.log.append(
              Buffer.from(this.payloads[0]?.payload ?? '', 'latin1'),
              { source: this.payloads[0]?.source },
            ),
          ]
        : await r.log.appendMany(
            this.payloads.map((p) => ({
              payload: Buffer.from(p.payload, 'latin1'),
              source: p.source,
            })),
          );
    const last = m.unacked[m.unacked.length - 1];
    if (last !== undefined) expect(seqs[0]).toBeGreaterThan(last.seq);
    this.payloads.forEach((p, i) =>
      m.unacked.push({ seq: seqs[i] as number, ...p }),
    );
  }
  toString = (): string => `append(${this.payloads.length})`;
}

class AckCommand implements fc.AsyncCommand<Model, Real> {
  readonly picks: number[];
  constructor(picks: number[]) {
    this.picks = picks;
  }
  check = (m: Readonly<Model>): boolean => m.unacked.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const chosen = new Set(this.picks.map((p) => p % m.unacked.length));
    const seqs = [...chosen].map((i) => (m.unacked[i] as { seq: number }).seq);
    r.log.ack(seqs.reverse());
    m.unacked = m.unacked.filter((_, i) => !chosen.has(i));
    await check(m, r);
  }
  toString = (): string => `ack(${this.picks.join(',')})`;
}

class RestartCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.log.shutdown();
    r.log = await createDiskLog(r.options);
    await check(m, r);
  }
  toString = (): string => 'restart';
}

class ReadCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await check(m, r);
  }
  toString = (): string => 'read';
}

const record = fc.record(
  {
    payload: fc.string({ unit: 'binary-ascii', maxLength: 400 }),
    source: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
  },
  { requiredKeys: ['payload'] },
);

const commands = [
  fc
    .array(record, { minLength: 1, maxLength: 20 })
    .map((p) => new AppendCommand(p)),
  fc
    .array(fc.nat(), { minLength: 1, maxLength: 15 })
    .map((p) => new AckCommand(p)),
  fc.constant(new RestartCommand()),
  fc.constant(new ReadCommand()),
];

const key = randomBytes(32);
const variants: Record<string, Partial<DiskLogOptions>> = {
  plain: {},
  'gzip+aes': { compression: 'gzip', encryptionKey: key },
};

describe('createDiskLog', () => {
  describe('model', () => {
    for (const [name, extra] of Object.entries(variants)) {
      it(`should read back every unacknowledged record exactly once, in order (${name})`, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.commands(commands, { maxCommands: 40 }),
            async (cmds) => {
              const tmp = await createTempDir('lc-buffer-model-');
              const options: DiskLogOptions = {
                directory: join(tmp.path, 'log'),
                maxSegmentBytes: 4096,
                fsync: 'never',
                ...extra,
              };
              const real: Real = { log: await createDiskLog(options), options };
              try {
                await fc.asyncModelRun(
                  () => ({ model: { unacked: [] }, real }),
                  cmds,
                );
              } finally {
                await real.log.shutdown();
                await tmp.cleanup();
              }
            },
          ),
          { numRuns: process.env.LC_LONG_TESTS === '1' ? 300 : 25 },
        );
      }, 120_000);
    }
  });
});
