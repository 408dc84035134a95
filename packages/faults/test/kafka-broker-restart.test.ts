// Kafka broker killed and restarted during traffic through the real
// lc-agent (file source → Kafka sink). The test runs its OWN librdkafka
// mock broker (never the shared one) behind a TCP proxy on a fixed port:
// the proxy rewrites the broker port the mock advertises in Metadata, so
// the agent only ever knows the proxy's address. A "kill" closes the
// proxy (every connection reset: the broker is gone for the agent), reads
// everything the old broker acknowledged (the mock keeps topics in
// memory only: reading them before the SIGKILL stands in for a real
// broker's log surviving its restart), SIGKILLs it, waits, starts a new
// broker and reopens the proxy on the same address. No config rewrite, no
// reload: the agent must recover on its own.
//
// The agent runs under a supervisor that restarts it if it exits (like
// systemd `Restart=always`), so the per-line accounting goes on past a
// crash; whether it crashed is a separate assertion.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir, skipWithout } from '@lc/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  agentConfig,
  consumeTopic,
  createKafkaProxy,
  createLineWriter,
  formatTallies,
  spawnAgent,
  startMockBroker,
  superviseAgent,
  tally,
  waitFor,
} from '../src/index.js';
import type {
  KafkaProxy,
  MockBroker,
  SupervisedAgent,
  Tally,
} from '../src/index.js';

const LONG = process.env['LC_LONG_TESTS'] === '1';
const BATCH = 200;
/** `dispatcher.workers` default: batches that can be in flight at a kill. */
const WORKERS = 4;
const TOPIC = 'faults';
const RESTARTS = LONG ? 8 : 3;
const OUTAGE_MS = LONG ? 10_000 : 3_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads the broker until two reads in a row agree (late appends settled). */
async function drain(address: string): Promise<string[]> {
  let prev = await consumeTopic(address, TOPIC);
  for (;;) {
    await sleep(300);
    const next = await consumeTopic(address, TOPIC);
    if (next.length === prev.length) return next;
    prev = next;
  }
}

interface Outcome {
  tally: Tally;
  exit: number | string;
  crashes: SupervisedAgent['crashes'];
}

async function runScenario(): Promise<Outcome> {
  const tmp = await createTempDir('lc-faults-kafka-');
  const root = tmp.path;
  let broker: MockBroker | undefined = await startMockBroker();
  let proxy: KafkaProxy | undefined;
  let agent: SupervisedAgent | undefined;
  try {
    proxy = await createKafkaProxy(broker.address);
    await mkdir(join(root, 'logs'), { recursive: true });
    const config = join(root, 'agent.yaml');
    await writeFile(
      config,
      agentConfig({
        root,
        kafkaBroker: proxy.address,
        kafkaTopic: TOPIC,
        batchMaxRecords: BATCH,
      }),
    );
    agent = superviseAgent(() => spawnAgent({ config, cwd: root }));
    const api = await agent.ready();
    const writer = createLineWriter({
      path: join(root, 'logs', 'app.log'),
      prefix: 'kafka',
      linesPerWrite: 50,
      intervalMs: 20,
    });
    // What the killed brokers had acknowledged, read before each kill.
    const delivered: string[] = [];
    const perBroker: number[] = [];
    for (let k = 0; k < RESTARTS; k++) {
      await sleep(2_000 + Math.floor(Math.random() * 1_000));
      await proxy.down();
      const held = await drain(broker.address);
      perBroker.push(held.length);
      for (const l of held) delivered.push(l);
      await broker.kill();
      broker = undefined;
      await sleep(OUTAGE_MS);
      broker = await startMockBroker();
      await proxy.up(broker.address);
    }
    await sleep(2_000);
    await writer.stop();
    const all = writer.written;
    const last = broker;
    const complete = await waitFor(async () => {
      const got = new Set([
        ...delivered,
        ...(await consumeTopic(last.address, TOPIC)),
      ]);
      return all.every((l) => got.has(l));
    }, 120_000);
    const stats = await fetch(`${api}/stats`)
      .then((r) => r.text())
      .catch((e: unknown) => String(e));
    const exit = await agent.stop();
    const held = await drain(last.address);
    perBroker.push(held.length);
    for (const l of held) delivered.push(l);
    const crashes = agent.crashes;
    const t = tally(
      `Kafka broker SIGKILL + restart x${RESTARTS} (${OUTAGE_MS / 1000} s down each, same address)` +
        (crashes.length > 0 ? `, agent crashed x${crashes.length}` : ''),
      all,
      delivered,
    );
    console.info(
      `\n${formatTallies([t])}\nper broker: ${perBroker.join(' + ')} messages; ` +
        `proxy connections: ${proxy.accepted()}, metadata rewrites: ${proxy.rewrites()}; ` +
        `agent processes: ${agent.all.length} (exits: ${crashes.map((c) => c.exit).join(', ') || 'none'}); ` +
        `complete before the deadline: ${complete}\n`,
    );
    if (t.lost > 0) {
      console.info(`lost e.g. ${t.lostSample.join(', ')}`);
      console.info(`agent stats before stop: ${stats.slice(0, 1500)}`);
      console.info(
        `agent log tail:\n${agent.all.at(-1)?.stderr().slice(-3_000) ?? ''}`,
      );
    }
    if (crashes.length > 0)
      console.info(`first crash, agent log tail:\n${crashes[0]?.logTail}`);
    return { tally: t, exit, crashes };
  } finally {
    await agent?.kill();
    await proxy?.down();
    await broker?.kill();
    await tmp.cleanup();
  }
}

describe.skipIf(await skipWithout('kafka'))(
  'Kafka broker killed and restarted (own mock broker behind a fixed-port proxy)',
  () => {
    let outcome: Outcome | undefined;
    beforeAll(async () => {
      outcome = await runScenario();
    }, 300_000);

    it(`should lose nothing across ${RESTARTS} broker kills and restarts`, () => {
      const t = outcome?.tally;
      expect(t).toBeDefined();
      expect(t?.unexpected).toBe(0);
      expect(t?.lost).toBe(0);
      // At-least-once: only batches in flight when the broker vanished (or
      // the agent died) may come twice: at most every worker's batch each.
      const faults = RESTARTS + (outcome?.crashes.length ?? 0);
      expect(t?.duplicates).toBeLessThanOrEqual(faults * WORKERS * BATCH);
      expect(outcome?.exit).toBe(0);
    });

    // The agent used to exit at the first disconnect (kafkajs' log hook
    // called pino's methods unbound); it must ride the outage out.
    it('should keep the agent running while the broker is away', () => {
      expect(outcome?.crashes).toEqual([]);
    });
  },
);
