// A sink outage that outlasts log rotation, through the real lc-agent
// binary at its default settings: while Loki answers 503, files rotate away
// and are deleted (logrotate's `rotate N`), the agent is restarted with a
// SIGTERM and later SIGKILLed, and only then does the sink come back. The
// disk buffer (dispatcher.spill) and the WAL (persistence, on failure) must
// hold everything. Loki is the in-test endpoint speaking its protobuf +
// snappy wire format with its status codes (no Loki server runs here).
import { join } from 'node:path';
import { createLokiTestServer } from '@lc/sinks/testing';
import type { LokiTestServer } from '@lc/sinks/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createLineWriter,
  createScenario,
  formatTallies,
  tally,
  waitFor,
} from '../src/index.js';
import type { LineWriter, Scenario, Tally } from '../src/index.js';

const LONG = process.env['LC_LONG_TESTS'] === '1';
const OUTAGE_MS = LONG ? 60_000 : 12_000;
// 4,000 lines/s (20,000 long), a generation a second, two archives kept:
// a generation is deleted ~3 s after it is rotated away.
const LINES_PER_WRITE = LONG ? 200 : 40;
const rows: Tally[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let scenario: Scenario | undefined;
let loki: LokiTestServer | undefined;
afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
  await loki?.close();
  loki = undefined;
});
afterAll(() => {
  if (rows.length > 0)
    console.info(`\noutage scenarios (defaults)\n${formatTallies(rows)}\n`);
});

/** `app.log`, a generation a second, two archives kept (logrotate `rotate 2`). */
function rotatingWriter(root: string, prefix: string): LineWriter {
  return createLineWriter({
    path: join(root, 'logs', 'app.log'),
    prefix,
    linesPerWrite: LINES_PER_WRITE,
    intervalMs: 10,
    rotateEvery: 100,
    keepArchives: 2,
  });
}

/** Sum of a counter's samples (optionally those with `label`) on `/metrics`. */
async function metric(api: string, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !line.includes(label)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('a sink outage longer than log rotation', () => {
  it(`should lose nothing: Loki down ${OUTAGE_MS / 1000} s while files rotate away and are deleted, one SIGTERM restart and one SIGKILL during it`, async () => {
    loki = await createLokiTestServer();
    const server = loki;
    let down = true;
    let refused = 0;
    server.setHandler(() => {
      if (!down) return undefined;
      refused++;
      return { status: 503, body: 'ingester not ready' };
    });
    scenario = await createScenario('outage', { lokiUrl: server.url });
    const { root, start } = scenario;
    const writer = rotatingWriter(root, 'o');
    let a = start();
    await a.ready();
    await sleep(OUTAGE_MS / 3);
    expect(await a.stop()).toBe(0); // a rolling restart during the outage
    a = start();
    await a.ready();
    await sleep(OUTAGE_MS / 3);
    await a.kill(); // a crash during the outage
    await sleep(200);
    a = start();
    const api = await a.ready();
    await sleep(OUTAGE_MS / 3);
    const deletedDuringOutage = writer.deleted();
    down = false;
    await writer.stop();
    const all = writer.written;
    await waitFor(() => {
      const got = new Set(server.entries().map((e) => e.line));
      return all.every((l) => got.has(l));
    }, 60_000);
    const stats = await (await fetch(`${api}/stats`)).text();
    expect(await a.stop()).toBe(0);
    const t = tally(
      `Loki 503 for ${OUTAGE_MS / 1000} s, ${writer.rotations()} rotations, ${deletedDuringOutage} generations deleted meanwhile, SIGTERM + SIGKILL during it (${refused} refused pushes)`,
      all,
      server.entries().map((e) => e.line),
    );
    rows.push(t);
    if (t.lost > 0) {
      const got = new Set(server.entries().map((e) => e.line));
      const lost = all.filter((l) => !got.has(l));
      console.info(stats);
      console.info(
        `lost ${lost.length}, e.g. ${lost.slice(0, 3).join(', ')} … ${lost.slice(-3).join(', ')}; evidence in ${await scenario.keepEvidence()}`,
      );
    }
    expect(deletedDuringOutage).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(t.unexpected).toBe(0);
    expect(t.lost).toBe(0);
  });

  it('should count every dropped line exactly when the disk buffer is smaller than the backlog (when_full: drop_oldest)', async () => {
    loki = await createLokiTestServer();
    const server = loki;
    let down = true;
    server.setHandler(() =>
      down ? { status: 503, body: 'ingester not ready' } : undefined,
    );
    scenario = await createScenario('outage-budget', {
      lokiUrl: server.url,
      spill: { maxBytes: '256KiB', whenFull: 'drop_oldest' },
    });
    const { root, start } = scenario;
    const writer = rotatingWriter(root, 'b');
    const a = start();
    const api = await a.ready();
    await sleep(OUTAGE_MS / 2);
    down = false;
    await writer.stop();
    const all = writer.written;
    // Everything not dropped arrives; what is dropped is counted.
    await waitFor(async () => {
      const got = new Set(server.entries().map((e) => e.line));
      const missing = all.filter((l) => !got.has(l)).length;
      const dropped = await metric(
        api,
        'lc_dispatcher_records_dropped_total',
        'reason="spill_full"',
      );
      return missing === dropped && (await a.ready()) === api;
    }, 180_000);
    const dropped = await metric(
      api,
      'lc_dispatcher_records_dropped_total',
      'reason="spill_full"',
    );
    const unread = await metric(api, 'lc_file_unread_bytes_total');
    expect(await a.stop()).toBe(0);
    const t = tally(
      `Loki 503 for ${OUTAGE_MS / 2000} s with a 256 KiB disk buffer, drop_oldest (${dropped} counted drops)`,
      all,
      server.entries().map((e) => e.line),
    );
    rows.push(t);
    expect(dropped).toBeGreaterThan(0);
    expect(t.lost).toBe(dropped);
    expect(unread).toBe(0);
    expect(t.unexpected).toBe(0);
  });
});
