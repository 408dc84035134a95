import {
  appendFile,
  mkdir,
  readFile,
  readdir,
  rename,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { freezeLabels, LcError, silentLogger, timestampFromMs } from '@lc/core';
import type { Logger, LogRecord } from '@lc/core';
import { createJsonFilePositionStore } from '@lc/positions';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { createAgent } from './create-agent.js';
import { diffConfig } from './diff-config.js';

function yaml(dir: string, sink: string, extraSource = ''): string {
  return `app: {data_dir: ${dir}/data}
positions: {store: file, flush_interval: 50ms}
sources:
  files:
    - include: ["${dir}/logs/a/*.log"]
${extraSource}
dispatcher: {batch_timeout: 20ms, batch_max_records: 50}
sinks:
  file: [{name: ${sink}, directory: ${dir}/out, path_template: "{file_name}.jsonl"}]
`;
}

async function lines(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of await readdir(join(dir, 'out')).catch(() => [] as string[])) {
    // Only whole lines: the sink may be in the middle of an append (what
    // follows the last newline is not written yet).
    const whole = (await readFile(join(dir, 'out', f), 'utf8')).split('\n');
    whole.pop();
    for (const l of whole) out.push((JSON.parse(l) as { line: string }).line);
  }
  return out;
}

describe('createAgent', () => {
  describe('reload', () => {
    it('should swap sinks and add sources while lines flow, without loss or duplicates', async () => {
      const tmp = await createTempDir('lc-agent-reload-');
      await mkdir(join(tmp.path, 'logs', 'a'), { recursive: true });
      await mkdir(join(tmp.path, 'logs', 'b'), { recursive: true });
      const agent = createAgent({
        config: unwrapConfig(parseConfig(yaml(tmp.path, 'one'), { env: {} })),
      });
      await agent.start();
      const expected: string[] = [];
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          await appendFile(join(tmp.path, 'logs', 'a', 'x.log'), `a-${i}\n`);
          await appendFile(join(tmp.path, 'logs', 'b', 'y.log'), `b-${i}\n`);
          expected.push(`a-${i}`, `b-${i}`);
          if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      const next = unwrapConfig(
        parseConfig(
          yaml(tmp.path, 'two', `    - include: ["${tmp.path}/logs/b/*.log"]`),
          { env: {} },
        ),
      );
      const result = await agent.reload(next);
      expect(result.applied).toEqual(
        expect.arrayContaining(['sinks', 'sources']),
      );
      expect(agent.stats().sinks).toEqual(['two']);
      await new Promise((r) => setTimeout(r, 300));
      writing = false;
      await writer;
      const deadline = Date.now() + 30_000;
      while (
        (await lines(tmp.path)).length < expected.length &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await agent.shutdown();
      const got = await lines(tmp.path);
      expect(new Set(got).size).toBe(got.length);
      expect([...got].sort()).toEqual([...expected].sort());
      await tmp.cleanup();
    });

    it('should keep running on the old config when the new sinks cannot be built', async () => {
      const tmp = await createTempDir('lc-agent-reload-');
      const agent = createAgent({
        config: unwrapConfig(parseConfig(yaml(tmp.path, 'one'), { env: {} })),
      });
      await agent.start();
      const bad = unwrapConfig(parseConfig(yaml(tmp.path, 'one'), { env: {} }));
      const broken = {
        ...bad,
        sinks: {
          ...bad.sinks,
          file: [{ ...bad.sinks.file[0]!, directory: '' }],
        },
      };
      await expect(agent.reload(broken)).rejects.toThrow();
      expect(agent.state).toBe('running');
      expect(agent.stats().sinks).toEqual(['one']);
      await agent.shutdown();
      await tmp.cleanup();
    });
  });

  describe('ingest', () => {
    it('should refuse records while a reload stops the old pipeline, instead of taking and dropping them, and say what that stop left', async () => {
      // A Loki that accepts and never answers: the old pipeline's stop
      // waits out shutdown_timeout with a push in flight.
      const sockets = new Set<Socket>();
      let pushes = 0;
      const hung = createServer((socket) => {
        sockets.add(socket);
        socket.once('data', () => pushes++);
        socket.resume();
      });
      await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
      const tmp = await createTempDir('lc-agent-ingest-');
      const logged: Array<{ level: string; msg: string }> = [];
      const logger: Logger = {
        ...silentLogger,
        info: (o: unknown, m?: string) =>
          logged.push({ level: 'info', msg: m ?? String(o) }),
        warn: (o: unknown, m?: string) =>
          logged.push({ level: 'warn', msg: m ?? String(o) }),
        child: () => logger,
      };
      const config = (sink: string) =>
        unwrapConfig(
          parseConfig(
            `app: {data_dir: ${tmp.path}/data}
positions: {store: memory}
dispatcher: {batch_timeout: 20ms, shutdown_timeout: 1s}
sinks: {loki: [{name: ${sink}, url: "${url}"}]}
`,
            { env: {} },
          ),
        );
      const agent = createAgent({ config: config('one'), logger });
      try {
        await agent.start();
        const record = (line: string): LogRecord => ({
          line,
          labels: freezeLabels({ job: 'http' }),
          source: { kind: 'http', id: 'http-ingest' },
          ...timestampFromMs(Date.now()),
        });
        agent.ingest([record('before')]);
        while (pushes === 0) await new Promise((r) => setTimeout(r, 10));
        const reload = agent.reload(config('two'));
        while (agent.state !== 'reloading')
          await new Promise((r) => setImmediate(r));
        let refused: unknown;
        try {
          agent.ingest([record('during')]);
        } catch (error) {
          refused = error;
        }
        expect(LcError.isInstance(refused, 'LC_ERR_SERVICE_UNAVAILABLE')).toBe(
          true,
        );
        expect((refused as Error).message).toBe(
          'agent is reloading: retry later',
        );
        await reload;
        expect(agent.stats().dispatcher?.dropped).toEqual({});
        expect(logged.filter((l) => /previous pipeline/.test(l.msg))).toEqual([
          {
            level: 'warn',
            msg: 'reload: previous pipeline shutdown timed out after 1000 ms (dispatcher.shutdown_timeout) with 1 record not delivered to one: 1 record without a source to read them again (HTTP ingest) lost',
          },
        ]);
      } finally {
        await agent.shutdown();
        sockets.forEach((s) => s.destroy());
        hung.close();
        await tmp.cleanup();
      }
    });
  });
});

describe('self-capture guard', () => {
  it.each([
    ['backpressure', true],
    ['risk', false],
  ] as const)(
    'should deliver every line once, in order, through a full intake (spill trigger %s: spilled %s)',
    async (trigger, spills) => {
      const tmp = await createTempDir('lc-agent-spill-');
      await mkdir(join(tmp.path, 'logs', 'a'), { recursive: true });
      const n = 5_000;
      const expected = Array.from({ length: n }, (_, i) => `spill-${i}`);
      await appendFile(
        join(tmp.path, 'logs', 'a', 'x.log'),
        `${expected.join('\n')}\n`,
      );
      const config = unwrapConfig(
        parseConfig(
          yaml(tmp.path, 'one').replace(
            'dispatcher: {batch_timeout: 20ms, batch_max_records: 50}',
            `dispatcher: {batch_timeout: 20ms, batch_max_records: 50, max_queue_records: 100, spill: {enabled: true, trigger: ${trigger}}}`,
          ),
          { env: {} },
        ),
      );
      expect(config.dispatcher.spill.enabled).toBe(true);
      const agent = createAgent({ config });
      await agent.start();
      const deadline = Date.now() + 60_000;
      while ((await lines(tmp.path)).length < n && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const spilled = agent.stats().dispatcher?.spilledTotal ?? 0;
      await agent.shutdown();
      expect(await lines(tmp.path)).toEqual(expected);
      // The file is read far faster than 50-record batches drain. With
      // trigger backpressure the spill takes part; with risk (the default)
      // a healthy sink and a file in place pause the source instead.
      if (spills) expect(spilled).toBeGreaterThan(0);
      else expect(spilled).toBe(0);
      await tmp.cleanup();
    },
  );

  it('should never read what its own file sink writes, even when globs cover it', async () => {
    const tmp = await createTempDir('lc-agent-self-');
    await mkdir(join(tmp.path, 'logs'), { recursive: true });
    await appendFile(join(tmp.path, 'logs', 'in.log'), 'one\ntwo\n');
    const config = unwrapConfig(
      parseConfig(
        `app: {data_dir: ${tmp.path}/data}
positions: {store: memory}
sources: {files: [{include: ["${tmp.path}/**/*.log"]}]}
dispatcher: {batch_timeout: 20ms}
sinks: {file: [{name: out, directory: ${tmp.path}/out, path_template: "{file_name}.log"}]}
`,
        { env: {} },
      ),
    );
    const agent = createAgent({ config });
    await agent.start();
    const outFile = join(tmp.path, 'out', 'in.log');
    const read = async () =>
      (await readFile(outFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean);
    for (let i = 0; i < 100 && (await read()).length < 2; i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));
    await agent.shutdown();
    expect(
      (await read()).map((l) => (JSON.parse(l) as { line: string }).line),
    ).toEqual(['one', 'two']);
    expect(
      agent.positions().filter((p) => p.kind === 'file').length,
    ).toBeLessThanOrEqual(1);
    await tmp.cleanup();
  });
});

describe('diffConfig', () => {
  it('should separate live sections from restart-only ones', () => {
    const a = unwrapConfig(parseConfig('sinks: {stdout: [{}]}', { env: {} }));
    const b = unwrapConfig(
      parseConfig(
        'sinks: {stdout: [{}]}\napi: {port: 9999}\napp: {log_level: debug}',
        { env: {} },
      ),
    );
    const d = diffConfig(a, b);
    expect(d).toMatchObject({
      sources: false,
      sinks: false,
      logLevel: true,
      requiresRestart: ['api'],
    });
  });
});

describe('positions.on_corruption', () => {
  async function corruptWithBackup(dir: string): Promise<void> {
    const data = join(dir, 'data');
    await mkdir(data, { recursive: true });
    // A valid (empty) file written by the real store becomes the backup.
    const path = join(data, 'positions.json');
    const store = createJsonFilePositionStore({ path });
    await store.save({ upserts: [] });
    await store.close();
    await rename(path, `${path}.bak.1`);
    await writeFile(path, '{"version":1,"entries":[{');
  }

  it('should refuse to start on a corrupt position file when set to fail, naming the file', async () => {
    const tmp = await createTempDir('lc-agent-poscorrupt-');
    await mkdir(join(tmp.path, 'logs', 'a'), { recursive: true });
    await corruptWithBackup(tmp.path);
    const config = unwrapConfig(
      parseConfig(
        yaml(tmp.path, 'one').replace(
          'positions: {store: file, flush_interval: 50ms}',
          'positions: {store: file, flush_interval: 50ms, on_corruption: fail}',
        ),
        { env: {} },
      ),
    );
    expect(config.positions.on_corruption).toBe('fail');
    const agent = createAgent({ config });
    await expect(agent.start()).rejects.toMatchObject({
      code: 'LC_ERR_POSITIONS_CORRUPT',
      message: expect.stringContaining(
        join(tmp.path, 'data', 'positions.json'),
      ),
    });
    await agent.shutdown().catch(() => {});
    await tmp.cleanup();
  });

  it('should restore the newest valid backup by default and keep reading', async () => {
    const tmp = await createTempDir('lc-agent-posrestore-');
    await mkdir(join(tmp.path, 'logs', 'a'), { recursive: true });
    await corruptWithBackup(tmp.path);
    await appendFile(join(tmp.path, 'logs', 'a', 'x.log'), 'one\ntwo\n');
    const config = unwrapConfig(
      parseConfig(yaml(tmp.path, 'one'), { env: {} }),
    );
    expect(config.positions.on_corruption).toBe('restore_backup');
    const agent = createAgent({ config });
    await agent.start();
    for (let i = 0; i < 200 && (await lines(tmp.path)).length < 2; i++)
      await new Promise((r) => setTimeout(r, 25));
    await agent.shutdown();
    expect(await lines(tmp.path)).toEqual(['one', 'two']);
    await tmp.cleanup();
  });
});
