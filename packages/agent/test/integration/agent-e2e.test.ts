import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentProcess } from './agent-process.js';
import { eventually, readSinkLines, spawnAgent } from './agent-process.js';

const LONG = process.env['LC_LONG_TESTS'] === '1';

function config(dir: string): string {
  return `app: {data_dir: ${dir}/data, log_level: info}
api: {port: 0}
sources:
  files: [{include: ["${dir}/logs/**/*.log"], labels: {job: e2e}}]
dispatcher: {batch_timeout: 100ms, batch_max_records: 200}
positions: {flush_interval: 100ms}
sinks:
  file: [{name: out, directory: ${dir}/out, path_template: "{file_name}.jsonl"}]
`;
}

function counts(lines: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

describe('lc-agent run (real process)', () => {
  let tmp: TempDir;
  const running: AgentProcess[] = [];

  beforeEach(async () => {
    tmp = await createTempDir('lc-agent-e2e-');
    await mkdir(join(tmp.path, 'logs', 'nested'), { recursive: true });
    await writeFile(join(tmp.path, 'agent.yaml'), config(tmp.path));
  });

  afterEach(async () => {
    for (const p of running)
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    running.length = 0;
    await tmp.cleanup();
  });

  const start = (): AgentProcess => {
    const p = spawnAgent(
      ['run', '--config', join(tmp.path, 'agent.yaml')],
      tmp.path,
    );
    running.push(p);
    return p;
  };

  it('should deliver every line exactly once across a graceful restart and serve /metrics', async () => {
    const a = join(tmp.path, 'logs', 'a.log');
    const b = join(tmp.path, 'logs', 'nested', 'b.log');
    const expected: string[] = [];
    const write = async (
      file: string,
      prefix: string,
      from: number,
      n: number,
    ) => {
      let text = '';
      for (let i = from; i < from + n; i++) {
        text += `${prefix}-${i}\n`;
        expected.push(`${prefix}-${i}`);
      }
      await appendFile(file, text);
    };
    await write(a, 'a', 0, 300);
    const first = start();
    const address = await first.apiAddress();
    await write(b, 'b', 0, 300);
    await eventually(
      async () => (await readSinkLines(join(tmp.path, 'out'))).length >= 600,
      60_000,
      '600 lines',
    );
    const metrics = await (await fetch(`${address}/metrics`)).text();
    expect(metrics).toMatch(/^lc_positions_total\{kind="file"\} 2$/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
    // SIGHUP with a bad file: rejected, the running config keeps going.
    const configPath = join(tmp.path, 'agent.yaml');
    await writeFile(configPath, `${config(tmp.path)}bogus_section: {}\n`);
    first.child.kill('SIGHUP');
    await eventually(
      async () => first.stderr().includes('reload rejected'),
      30_000,
      'reload rejected',
    );
    expect((await fetch(`${address}/ready`)).status).toBe(200);
    // SIGHUP with a changed source: applied live, nothing lost or repeated.
    await writeFile(
      configPath,
      config(tmp.path).replace('{job: e2e}', '{job: e2e-reloaded}'),
    );
    first.child.kill('SIGHUP');
    await eventually(
      async () => first.stderr().includes('configuration reloaded'),
      30_000,
      'reloaded',
    );
    await write(a, 'a', 500, 50);
    await eventually(
      async () => (await readSinkLines(join(tmp.path, 'out'))).length >= 650,
      60_000,
      '650 lines',
    );
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // Written while the agent is down: picked up from the committed position.
    await write(a, 'a', 300, 200);
    await write(b, 'b', 300, 200);
    const second = start();
    await second.apiAddress();
    await eventually(
      async () => (await readSinkLines(join(tmp.path, 'out'))).length >= 1000,
      60_000,
      '1000 lines',
    );
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const got = counts(await readSinkLines(join(tmp.path, 'out')));
    const missing = expected.filter((l) => !got.has(l));
    const duplicated = [...got].filter(([, n]) => n > 1).map(([l]) => l);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(got.size).toBe(expected.length);
  }, 180_000);

  it(`should lose nothing when SIGKILLed ${LONG ? 20 : 3} times mid-stream`, async () => {
    const kills = LONG ? 20 : 3;
    const file = join(tmp.path, 'logs', 'stream.log');
    const expected: string[] = [];
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        let text = '';
        for (let i = 0; i < 25; i++) {
          text += `s-${n}\n`;
          expected.push(`s-${n}`);
          n++;
        }
        await appendFile(file, text);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    for (let k = 0; k < kills; k++) {
      const p = start();
      await p.apiAddress();
      await new Promise((r) =>
        setTimeout(r, 300 + Math.floor(Math.random() * 1200)),
      );
      p.child.kill('SIGKILL');
      expect(await p.exited).toBe('SIGKILL');
    }
    writing = false;
    await writer;
    const last = start();
    await last.apiAddress();
    await eventually(
      async () => {
        const got = new Set(await readSinkLines(join(tmp.path, 'out')));
        return expected.every((l) => got.has(l));
      },
      90_000,
      'every line delivered',
    );
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    const got = counts(await readSinkLines(join(tmp.path, 'out')));
    expect(expected.filter((l) => !got.has(l))).toEqual([]);
    // At-least-once across SIGKILL: duplicates only from batches in flight.
    const duplicates = [...got.values()].reduce((s, c) => s + c - 1, 0);
    console.info(
      `SIGKILL x${kills}: ${expected.length} lines, ${duplicates} duplicates, 0 lost`,
    );
    expect(duplicates).toBeLessThan(expected.length);
    expect([...got.keys()].every((l) => /^s-\d+$/.test(l))).toBe(true);
  }, 300_000);
});

describe('lc-agent validate (real process)', () => {
  it('should print every error with its path and exit 2', async () => {
    const tmp = await createTempDir('lc-agent-validate-');
    await writeFile(
      join(tmp.path, 'bad.yaml'),
      'sinks: {loki: [{url: "htp:/x"}]}\ndispatcher: {workerz: 2, batch_timeout: soon}\n',
    );
    const p = spawnAgent(
      ['validate', '--config', join(tmp.path, 'bad.yaml')],
      tmp.path,
    );
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain(
      'sinks.loki[0].url: expected a URL, got "htp:/x"',
    );
    expect(p.stderr()).toContain(
      'dispatcher.workerz: unknown key "workerz", did you mean "workers"?',
    );
    expect(p.stderr()).toContain(
      'dispatcher.batch_timeout: expected a duration like "5s", got "soon"',
    );
    const ok = spawnAgent(['validate'], tmp.path);
    expect(await ok.exited).toBe(0);
    expect(ok.stdout()).toContain('configuration ok (embedded default)');
    await tmp.cleanup();
  }, 60_000);
});

describe('lc-agent positions/dlq (real process)', () => {
  it('should list saved positions and dead letters from the configured stores', async () => {
    const tmp = await createTempDir('lc-agent-cli-');
    const { createJsonFilePositionStore } = await import('@lc/positions');
    const { makeFilePosition } = await import('@lc/core/testing');
    const store = createJsonFilePositionStore({
      path: join(tmp.path, 'data', 'positions.json'),
    });
    await store.save({ upserts: [makeFilePosition('7:42', 1234)] });
    await store.close();
    await writeFile(
      join(tmp.path, 'agent.yaml'),
      `app: {data_dir: ${tmp.path}/data}\nsinks: {stdout: [{}]}\n`,
    );
    const list = spawnAgent(
      ['positions', 'list', '--json', '--config', join(tmp.path, 'agent.yaml')],
      tmp.path,
    );
    expect(await list.exited).toBe(0);
    const positions = JSON.parse(list.stdout()) as {
      id: string;
      offset: number;
    }[];
    expect(positions).toEqual([
      expect.objectContaining({ id: '7:42', offset: 1234 }),
    ]);
    const dlq = spawnAgent(
      ['dlq', 'list', '--json', '--config', join(tmp.path, 'agent.yaml')],
      tmp.path,
    );
    expect(await dlq.exited).toBe(0);
    expect(JSON.parse(dlq.stdout())).toEqual({ total: 0, entries: [] });
    await tmp.cleanup();
  }, 60_000);
});
