import { appendFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLokiTestServer } from '@lc/sinks/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  agentConfig,
  createLineWriter,
  createScenario,
  formatTallies,
  readFileSink,
  tally,
  waitFor,
} from '../src/index.js';
import type { Scenario, Tally } from '../src/index.js';

// Sink outage, reloads and damaged state files through the real lc-agent
// at its default settings (kills and restarts: kills.test.ts). Short by
// default (part of `pnpm test`); LC_LONG_TESTS=1 (`pnpm test:faults`) runs
// longer outages and more reloads.
const LONG = process.env['LC_LONG_TESTS'] === '1';
const rows: Tally[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let scenario: Scenario | undefined;

async function setup(
  name: string,
  extra: Parameters<typeof createScenario>[1] = {},
): Promise<Scenario> {
  scenario = await createScenario(name, extra);
  return scenario;
}

afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

afterAll(() => {
  if (rows.length > 0)
    console.info(`\nfault-injection results\n${formatTallies(rows)}\n`);
});

function record(t: Tally): Tally {
  rows.push(t);
  if (t.lost > 0)
    console.info(`${t.scenario}: lost e.g. ${t.lostSample.join(', ')}`);
  return t;
}

describe('fault injection through the real lc-agent process', () => {
  it('should deliver every line once through a Loki outage answering 500/429', async () => {
    const loki = await createLokiTestServer();
    try {
      const { root, start } = await setup('loki', { lokiUrl: loki.url });
      const a = start();
      await a.ready();
      const outageMs = LONG ? 60_000 : 8_000;
      const until = Date.now() + outageMs;
      let refused = 0;
      loki.setHandler(() => {
        if (Date.now() >= until) return undefined;
        refused++;
        return refused % 2 === 0
          ? { status: 429, body: 'rate limited' }
          : { status: 500, body: 'boom' };
      });
      const writer = createLineWriter({
        path: join(root, 'logs', 'app.log'),
        prefix: 'loki',
        linesPerWrite: 100,
        intervalMs: 20,
      });
      await sleep(outageMs + 2_000);
      await writer.stop();
      const all = writer.written;
      await waitFor(() => {
        const got = new Set(loki.entries().map((e) => e.line));
        return all.every((l) => got.has(l));
      }, 120_000);
      expect(await a.stop()).toBe(0);
      const t = record(
        tally(
          `Loki 500/429 for ${outageMs / 1000} s (${refused} refused pushes)`,
          all,
          loki.entries().map((e) => e.line),
        ),
      );
      expect(refused).toBeGreaterThan(0);
      expect(t.unexpected).toBe(0);
      expect(t.lost).toBe(0);
      // The test server stores nothing it refused: no duplicates expected.
      expect(t.duplicates).toBe(0);
    } finally {
      await loki.close();
    }
  });

  it('should deliver every line after SIGHUP reloads in the middle of traffic', async () => {
    const { root, config, start } = await setup('reload');
    const a = start();
    await a.ready();
    const writer = createLineWriter({
      path: join(root, 'logs', 'app.log'),
      prefix: 'reload',
      linesPerWrite: 50,
      intervalMs: 20,
    });
    const reloads = LONG ? 20 : 4;
    for (let g = 1; g <= reloads; g++) {
      await sleep(1_000);
      await writeFile(
        config,
        agentConfig({
          root,
          generation: g,
          // Every reload changes something: the batch size, or a label.
          ...(g % 2 === 0 ? {} : { batchMaxRecords: 50 }),
        }),
      );
      a.child.kill('SIGHUP');
    }
    await sleep(1_000);
    await writer.stop();
    const all = writer.written;
    await waitFor(async () => {
      const got = new Set(await readFileSink(join(root, 'out')));
      return all.every((l) => got.has(l));
    }, 120_000);
    expect(await a.stop()).toBe(0);
    const applied = a.stderr().split('configuration reloaded').length - 1;
    const t = record(
      tally(
        `config reload (SIGHUP) x${reloads}, ${applied} applied`,
        all,
        await readFileSink(join(root, 'out')),
      ),
    );
    expect(applied).toBe(reloads);
    expect(t.unexpected).toBe(0);
    expect(t.lost).toBe(0);
    expect(t.duplicates).toBe(0);
  });

  it('should recover a corrupt positions snapshot, a torn positions journal and a torn WAL segment without loss', async () => {
    const { root, start } = await setup('corrupt', { wal: true });
    const file = join(root, 'logs', 'app.log');
    const writer = createLineWriter({
      path: file,
      prefix: 'c',
      linesPerWrite: 50,
      intervalMs: 10,
    });
    // Two clean stops: a snapshot, and a newer one with the first as backup.
    for (let i = 0; i < 2; i++) {
      const a = start();
      await a.ready();
      await sleep(700);
      expect(await a.stop()).toBe(0);
    }
    // Then a crash: what it committed since is in the journal only.
    const c = start();
    await c.ready();
    await sleep(1_000);
    await c.kill();
    await writer.stop();
    const data = join(root, 'data');
    const names = await readdir(data);
    const journal = names
      .filter((n) => n.startsWith('positions.json.journal.'))
      .sort((x, y) => Number(x.split('.').at(-1)) - Number(y.split('.').at(-1)))
      .at(-1);
    expect(journal).toBeDefined();
    expect(names).toContain('positions.json.bak.1');
    const journalPath = join(data, journal as string);
    const validBytes = (await stat(journalPath)).size;
    // A torn journal record (a crash in the middle of an append) and a
    // snapshot that is garbage.
    await appendFile(journalPath, '1234abcd {"u":[{"kind":"file","id":"6');
    await writeFile(
      join(data, 'positions.json'),
      '{"version":1,"entries":[{"key":"file:',
    );
    const walDir = join(data, 'wal');
    const segs = (await readdir(walDir, { recursive: true }).catch(() => []))
      .map(String)
      .filter((f) => /seg-\d+\.log$/.test(f));
    let torn: string;
    if (segs.length > 0) {
      // Torn tail: a partial frame appended to the newest segment.
      const seg = join(walDir, segs.sort().at(-1) as string);
      const before = (await stat(seg)).size;
      await appendFile(
        seg,
        Buffer.from([0x4c, 0x43, 0x46, 0x52, 0xff, 0xff, 0x00, 0x01, 0x02]),
      );
      torn = `torn tail on ${segs.at(-1)} at ${before} B`;
    } else {
      // Every batch was acknowledged and its segment deleted before the
      // kill: inject a segment torn inside its header instead.
      await mkdir(walDir, { recursive: true });
      await writeFile(
        join(walDir, 'seg-0000000000000001.log'),
        Buffer.from('LCSEG\x00torn-header'),
      );
      torn = 'segment torn inside its header';
    }
    const d = start();
    await d.ready();
    const all = writer.written;
    await waitFor(async () => {
      const got = new Set(await readFileSink(join(root, 'out')));
      return all.every((l) => got.has(l));
    }, 120_000);
    expect(await d.stop()).toBe(0);
    // Both recoveries are said, with the file and where the journal ends.
    expect(d.stderr()).toContain('position file restored from backup');
    expect(d.stderr()).toMatch(
      new RegExp(
        `"file":"${journalPath.replace(/[.]/g, '\\.')}","offset":${validBytes},.*position journal damaged`,
      ),
    );
    const t = record(
      tally(
        `kill after two clean stops, garbage snapshot (restored from backup) + torn journal record + ${torn}`,
        all,
        await readFileSink(join(root, 'out')),
      ),
    );
    expect(t.unexpected).toBe(0);
    expect(t.lost).toBe(0);
  });
});
