// Multiline records across SIGKILLs of the built lc-agent binary: a Java
// stack trace half written when the agent is killed is delivered whole
// after the restart, never in pieces; with traces written continuously and
// agents killed at random moments from their spawn, every record arrives
// whole (duplicates of whole records only, none lost); and a rotation that
// gzips the file afterwards (logrotate `compress`) is not read again.
import { execFile } from 'node:child_process';
import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  readSinkLines,
  release,
  spawnBinary,
} from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tmp: TempDir | undefined;
let agent: AgentProcess | undefined;

afterEach(async () => {
  await release(agent, tmp);
  agent = tmp = undefined;
});

/** The config: app.log and .gz files, preset java, a file sink. */
function config(dir: string): string {
  // A flush timeout far beyond the test: only the rule ends a record, so
  // a record seen whole proves the join, not a timer.
  return `app: {data_dir: ${dir}/data}
api: {port: 0}
sources:
  files: [{include: ["${dir}/logs/app.log", "${dir}/logs/*.gz"], multiline: {preset: java, flush_timeout: 10m}}]
dispatcher: {batch_timeout: 50ms}
sinks: {file: [{name: out, directory: ${dir}/out}]}
`;
}

/** A Java stack trace whose every line names record `n`. */
function trace(n: number): string[] {
  return [
    `2026-11-23 10:00:00 ERROR [main] c.a.Orders - record ${n} failed`,
    `java.lang.IllegalStateException: record ${n}`,
    `\tat com.acme.Orders.get(Orders.java:${n})`,
    `\tat com.acme.Http.serve(Http.java:${n})`,
    `Caused by: java.io.IOException: record ${n}`,
    `\tat com.acme.Disk.read(Disk.java:${n})`,
    `\t... ${n} more`,
  ];
}

const info = (n: number) =>
  `2026-11-23 10:00:00 INFO [main] c.a.Orders - record ${n}`;

async function start(): Promise<string> {
  tmp = await createTempDir('lc-agent-multiline-');
  const dir = tmp.path;
  await mkdir(join(dir, 'logs'), { recursive: true });
  await writeFile(join(dir, 'agent.yaml'), config(dir));
  return dir;
}

const spawn = (dir: string) =>
  spawnBinary(['run', '--config', join(dir, 'agent.yaml')], dir);

const delivered = (dir: string) => readSinkLines(join(dir, 'out'));

function counts(lines: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

describe('lc-agent run with multiline (built binary, SIGKILL)', () => {
  it('should deliver a stack trace whole after a SIGKILL in its middle', async () => {
    const dir = await start();
    const log = join(dir, 'logs', 'app.log');
    const t = trace(777);
    await writeFile(
      log,
      `${[...Array.from({ length: 50 }, (_, i) => info(i)), ...t.slice(0, 3)].join('\n')}\n`,
    );
    agent = spawn(dir);
    // The last INFO line leaves when the trace's first line is read: the
    // agent holds the first half of the trace, not committed.
    await eventually(
      async () => (await delivered(dir)).includes(info(49)),
      60_000,
      'the lines before the trace delivered',
    );
    agent.child.kill('SIGKILL');
    await agent.exited;
    const ofTrace = (lines: string[]) =>
      lines.filter((l) => l.includes('record 777'));
    expect(ofTrace(await delivered(dir))).toEqual([]);
    await appendFile(
      log,
      `${[...t.slice(3), info(100), info(101)].join('\n')}\n`,
    );
    agent = spawn(dir);
    await eventually(
      async () => (await delivered(dir)).includes(info(100)),
      60_000,
      'the line after the trace delivered',
    );
    const out = await delivered(dir);
    expect(ofTrace(out)).toEqual([t.join('\n')]);
    expect(new Set(out)).toEqual(
      new Set([
        ...Array.from({ length: 50 }, (_, i) => info(i)),
        t.join('\n'),
        info(100),
      ]),
    );
  }, 180_000);

  it('should deliver every record whole across random SIGKILLs, and not read a gzipped rotation again', async () => {
    const dir = await start();
    const log = join(dir, 'logs', 'app.log');
    await writeFile(log, '');
    const expected: string[] = [];
    let writing = true;
    // Records every ~20 ms; a trace is written in two parts 30 ms apart,
    // so reads (and kills) fall inside traces.
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        if (n % 3 === 0) {
          const t = trace(n);
          expected.push(t.join('\n'));
          await appendFile(log, `${t.slice(0, 3).join('\n')}\n`);
          await sleep(30);
          await appendFile(log, `${t.slice(3).join('\n')}\n`);
        } else {
          expected.push(info(n));
          await appendFile(log, `${info(n)}\n`);
        }
        await sleep(20);
      }
    })();
    // Kills timed from each spawn, whatever the agent is doing then.
    const lifetimes = Array.from(
      { length: 5 },
      () => 800 + Math.floor(Math.random() * 3200),
    );
    for (const lifetime of lifetimes) {
      agent = spawn(dir);
      await sleep(lifetime);
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    writing = false;
    await writer;
    await appendFile(log, `END 1\nEND 2\n`);
    agent = spawn(dir);
    await eventually(
      async () => (await delivered(dir)).includes('END 1'),
      120_000,
      'everything delivered after the kills',
    );
    const out = await delivered(dir);
    const known = new Set([...expected, 'END 1']);
    // Whole records only: no piece of a trace on its own.
    expect(out.filter((l) => !known.has(l))).toEqual([]);
    const seen = new Set(out);
    expect(expected.filter((r) => !seen.has(r))).toEqual([]);
    const before = counts(out);

    // logrotate with compress: the file already read, renamed and gzipped.
    await rename(log, `${log}.1`);
    await writeFile(log, 'NEW 1\nNEW 2\n');
    await run('gzip', [`${log}.1`]);
    const api = await agent.apiAddress();
    await eventually(
      async () => {
        const status = (await (await fetch(`${api}/status`)).json()) as {
          files: { path: string; state: string }[];
        };
        return status.files.some(
          (f) => f.path.endsWith('app.log.1.gz') && f.state === 'completed',
        );
      },
      60_000,
      'the .gz handled',
    );
    await eventually(
      async () => (await delivered(dir)).includes('NEW 1'),
      60_000,
      'the new file read',
    );
    // What came since (one output file per source: compare counts): END 2
    // (held until the rotated file finished) and NEW 1, nothing of the
    // compressed file again.
    const added: string[] = [];
    for (const [line, n] of counts(await delivered(dir)))
      for (let i = before.get(line) ?? 0; i < n; i++) added.push(line);
    expect(added.sort()).toEqual(['END 2', 'NEW 1']);
  }, 300_000);
});
