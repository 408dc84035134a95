// A config reload (SIGHUP) while the sink is down must not strand what the
// WAL holds until a restart: the real, built lc-agent binary reads a real
// file, Loki answers 503 until every line is in the WAL, the agent is sent
// SIGHUP (the same file, a change to the Loki sink, to the dispatcher, to
// the sources; or the Loki sink removed), then Loki recovers. Every line
// must reach Loki without a restart, each accepted once, and /status and
// /metrics must follow. Loki is an HTTP endpoint in the test speaking
// Loki's protobuf + snappy push format and status codes (no Loki server
// can run here).
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLokiTestServer } from '@lc/sinks/testing';
import type { LokiTestServer } from '@lc/sinks/testing';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  logLines,
  readSinkLines,
  release,
  spawnBinary,
} from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

let tmp: TempDir | undefined;
let loki: LokiTestServer | undefined;
let agent: AgentProcess | undefined;

afterEach(async () => {
  await release(agent, loki, tmp);
  agent = loki = tmp = undefined;
});

const LINES = Array.from({ length: 300 }, (_, i) => `reload wal line ${i}`);

interface Status {
  sinks: Array<{ name: string; unsettledRecords: number }>;
  buffer: { persistence: { batches: number; records: number } };
}

async function status(api: string): Promise<Status> {
  return (await (await fetch(`${api}/status`)).json()) as Status;
}

/** The value of the unlabelled metric `name` in /metrics. */
async function metric(api: string, name: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m === null ? Number.NaN : Number(m[1]);
}

const reloaded = (a: AgentProcess): number =>
  logLines(a).filter((l) => l['msg'] === 'configuration reloaded').length;

/** How many times each line was in a push Loki accepted (2xx). */
function accepted(l: LokiTestServer): Map<string, number> {
  const n = new Map<string, number>();
  for (const push of l.requests) {
    if (push.status < 200 || push.status >= 300) continue;
    for (const s of push.streams)
      for (const e of s.entries) n.set(e.line, (n.get(e.line) ?? 0) + 1);
  }
  return n;
}

interface Variant {
  sinks: string;
  dispatcher: string;
  include: string;
}

const BASE: Variant = {
  sinks: '',
  dispatcher: 'batch_timeout: 100ms',
  include: '',
};

function configText(dir: string, url: string, v: Variant): string {
  return `app: {data_dir: ${dir}/data}
api: {port: 0}
sources: {files: [{include: ["${dir}/logs/*.log"${v.include}]}]}
dispatcher: {${v.dispatcher}}
sinks: {loki: [{url: "${url}"${v.sinks}}]}
`;
}

/**
 * Start the binary on {@link BASE}, Loki answering 503, and wait until the
 * WAL holds every line. Returns the API address and Loki's switch.
 */
async function startWithLokiDown(base: Variant = BASE): Promise<{
  dir: string;
  api: string;
  l: LokiTestServer;
  up: () => void;
}> {
  tmp = await createTempDir('lc-agent-reload-wal-');
  const dir = tmp.path;
  await mkdir(join(dir, 'logs'), { recursive: true });
  const l = (loki = await createLokiTestServer());
  let down = true;
  l.setHandler(() =>
    down ? { status: 503, body: 'ingester not ready' } : undefined,
  );
  await writeFile(join(dir, 'agent.yaml'), configText(dir, l.url, base));
  await appendFile(join(dir, 'logs', 'app.log'), `${LINES.join('\n')}\n`);
  agent = spawnBinary(['run', '--config', join(dir, 'agent.yaml')], dir);
  const api = await agent.apiAddress();
  await eventually(
    async () => (await status(api)).buffer.persistence.records === LINES.length,
    60_000,
    'every line in the WAL while Loki answers 503',
  );
  return { dir, api, l, up: () => (down = false) };
}

/** SIGHUP and wait for the agent to say the reload was applied. */
async function hup(a: AgentProcess): Promise<void> {
  const before = reloaded(a);
  a.child.kill('SIGHUP');
  await eventually(
    async () => reloaded(a) > before,
    60_000,
    '"configuration reloaded"',
  );
}

describe('lc-agent run: reload while the sink is down (real process)', () => {
  // Without the disk buffer, a reload that makes the intake smaller than
  // the WAL backlog must not wait for the sink to come back to finish.
  const NO_SPILL: Variant = {
    ...BASE,
    dispatcher:
      'batch_timeout: 100ms, batch_max_records: 50, max_queue_records: 400, spill: {enabled: false}',
  };
  it.each<[string, Variant, Partial<Variant>]>([
    ['the same file', BASE, {}],
    [
      'a change to the Loki sink',
      BASE,
      { sinks: ', labels: {reloaded: "yes"}' },
    ],
    [
      'a change to the dispatcher',
      BASE,
      { dispatcher: 'batch_timeout: 200ms' },
    ],
    ['a change to the sources', BASE, { include: ', "/nonexistent/*.log"' }],
    [
      'an intake bound below the backlog and no disk buffer',
      NO_SPILL,
      {
        dispatcher:
          'batch_timeout: 100ms, batch_max_records: 50, max_queue_records: 100, spill: {enabled: false}',
      },
    ],
  ])(
    'should deliver every line the WAL holds once Loki recovers, without a restart, after a reload with %s',
    async (_, base, change) => {
      const { dir, api, l, up } = await startWithLokiDown(base);
      const a = agent as AgentProcess;
      await writeFile(
        join(dir, 'agent.yaml'),
        configText(dir, l.url, { ...base, ...change }),
      );
      await hup(a);
      // The backlog is still there, and still owed by Loki.
      const s = await status(api);
      expect(s.buffer.persistence.records).toBe(LINES.length);
      // The new pipeline owes the backlog to loki: all of it, or, with an
      // intake bound below it, as much as the bound lets it take (the rest
      // follows as room frees).
      const owed = Math.min(LINES.length, base === NO_SPILL ? 100 : Infinity);
      await eventually(
        async () =>
          ((await status(api)).sinks.find((x) => x.name === 'loki')
            ?.unsettledRecords ?? 0) >= owed,
        60_000,
        'the new pipeline owing the WAL backlog to loki',
      );
      expect(
        await metric(api, 'lc_persistence_pending_batches'),
      ).toBeGreaterThan(0);
      up();
      await eventually(
        async () => accepted(l).size === LINES.length,
        60_000,
        'every line accepted by Loki',
      );
      await eventually(
        async () => (await status(api)).buffer.persistence.records === 0,
        60_000,
        'the WAL emptied',
      );
      expect(await metric(api, 'lc_persistence_pending_batches')).toBe(0);
      expect((await status(api)).sinks[0]?.unsettledRecords).toBe(0);
      // Nothing was accepted twice: while Loki was down nothing landed.
      const counts = accepted(l);
      expect([...counts.keys()].sort()).toEqual([...LINES].sort());
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(a.child.exitCode).toBeNull();
      a.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
    },
    180_000,
  );

  it('should dead-letter, logged and kept for replay, what the WAL holds for a sink the reload removed', async () => {
    const { dir, api } = await startWithLokiDown();
    const a = agent as AgentProcess;
    await writeFile(
      join(dir, 'agent.yaml'),
      `app: {data_dir: ${dir}/data}
api: {port: 0}
sources: {files: [{include: ["${dir}/logs/*.log"]}]}
dispatcher: {batch_timeout: 100ms}
sinks: {file: [{name: out, directory: "${dir}/out"}]}
`,
    );
    await hup(a);
    await eventually(
      async () => (await status(api)).buffer.persistence.records === 0,
      60_000,
      'the WAL settled for the removed sink',
    );
    const dlq = (await (await fetch(`${api}/dlq?limit=1000`)).json()) as {
      total: number;
      entries: Array<{
        sink: string;
        record: { line: string };
        reason: { code: string };
      }>;
    };
    expect(dlq.total).toBe(LINES.length);
    expect(dlq.entries.map((e) => e.record.line).sort()).toEqual(
      [...LINES].sort(),
    );
    expect(dlq.entries.every((e) => e.sink === 'loki')).toBe(true);
    expect(dlq.entries[0]?.reason.code).toBe('LC_ERR_CONFIG');
    const warned = logLines(a).filter((x) => x['level'] === 40);
    expect(
      warned.some((x) =>
        /reload: sink loki removed.*300 records.*dead-letter/.test(
          String(x['msg']),
        ),
      ),
    ).toBe(true);
    // The file sink, new, has none of them: they were Loki's.
    expect(await readSinkLines(join(dir, 'out'))).toEqual([]);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  }, 180_000);
});
