// Shared helpers for the end-to-end scenario scripts (e2e-kafka, e2e-containers,
// e2e-outage, e2e-backlog): cleanup that runs even on failure or Ctrl-C, the
// services env file, a counting Loki-wire endpoint, per-line accounting of
// numbered lines, timing of external commands, and result printing.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { corpusLine } from '../corpus.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `require` resolving from a workspace package (its own dependencies). */
export function requireFrom(pkg) {
  return createRequire(join(root, 'packages', pkg, 'package.json'));
}

// ---- cleanup ---------------------------------------------------------------

const cleanups = [];

/** Register `fn` to run (last registered first) when the scenario ends. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

async function runCleanups() {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (error) {
      console.error('cleanup failed:', error);
    }
  }
}

/**
 * Run `main`, then every registered cleanup, also on a thrown error and on
 * SIGINT/SIGTERM. Sets the exit code (1 on error).
 */
export async function runScenario(main) {
  const onSignal = (signal) => {
    console.error(`\n${signal}: cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await main();
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    await runCleanups();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A temp directory removed at cleanup. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Kill a spawned agent (SIGKILL) at cleanup if it is still running. */
export function killAtCleanup(agent) {
  onCleanup(async () => {
    if (agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
  });
}

/** Stop an agent with SIGTERM; SIGKILL after `graceMs`. Returns how it ended. */
export async function stopAgent(agent, graceMs = 30_000) {
  if (agent.child.exitCode !== null || agent.child.signalCode !== null)
    return { code: agent.child.exitCode ?? agent.child.signalCode, ms: 0 };
  const t0 = Date.now();
  agent.child.kill('SIGTERM');
  const timer = setTimeout(() => agent.child.kill('SIGKILL'), graceMs);
  const code = await agent.exited;
  clearTimeout(timer);
  return { code, ms: Date.now() - t0 };
}

// ---- environment -----------------------------------------------------------

/** `.lc-services.env` of the repo root, overridden by the process env. */
export function servicesEnv() {
  const out = {};
  const file = join(root, '.lc-services.env');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
      if (m) out[m[1]] = m[2].trim();
    }
  }
  for (const k of Object.keys(out))
    if (process.env[k] !== undefined) out[k] = process.env[k];
  return out;
}

/** `/proc/loadavg` (1, 5, 15 min), to print next to the figures. */
export function loadAvg() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** Current RSS (VmRSS) of `pid` in MB, NaN when gone. */
export function rssMb(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(s);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Run a command under GNU time: wall s, CPU s (user + sys of the command and
 * its children), peak RSS MB of the largest process, exit code; with
 * `{ stdout: 'pipe' }` also the tail of its stdout as `stdoutText`.
 */
export function timedCommand(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      '/usr/bin/time',
      ['-f', 'LCTIME %e %U %S %M', cmd, ...args],
      { stdio: ['ignore', options.stdout ?? 'ignore', 'pipe'], ...options },
    );
    let err = '';
    let out = '';
    child.stderr.on('data', (d) => (err = (err + d.toString()).slice(-20_000)));
    child.stdout?.on(
      'data',
      (d) => (out = (out + d.toString()).slice(-20_000)),
    );
    child.on('error', reject);
    child.on('exit', (code) => {
      const m = /LCTIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
      if (!m) {
        reject(new Error(`${cmd} failed (${code}): ${err.slice(-2000)}`));
        return;
      }
      resolve({
        code,
        seconds: Number(m[1]),
        cpu: Number(m[2]) + Number(m[3]),
        rss: Number(m[4]) / 1024,
        stderr: err,
        stdoutText: out,
      });
    });
  });
}

// ---- numbered lines --------------------------------------------------------

/** `seq=<n>` of a corpus line (bench/corpus.mjs), or -1. */
export function seqOf(line) {
  const i = line.indexOf(' seq=');
  if (i === -1) return -1;
  let n = 0;
  let j = i + 5;
  for (; j < line.length; j++) {
    const c = line.charCodeAt(j) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
  }
  return j === i + 5 ? -1 : n;
}

/** Counts deliveries per line number 0..capacity-1: distinct, duplicates. */
export class SeqCounter {
  constructor(capacity) {
    this.counts = new Uint16Array(capacity);
    this.distinct = 0;
    this.duplicates = 0;
    this.total = 0;
    this.outOfRange = 0;
  }

  add(seq) {
    this.total++;
    if (seq < 0 || seq >= this.counts.length) {
      this.outOfRange++;
      return;
    }
    const c = this.counts[seq];
    if (c === 0) this.distinct++;
    else this.duplicates++;
    if (c < 65535) this.counts[seq] = c + 1;
  }

  /** Line numbers in [0, upTo) never delivered (count and the first few). */
  missing(upTo, sample = 5) {
    let n = 0;
    const first = [];
    for (let i = 0; i < upTo; i++) {
      if (this.counts[i] === 0) {
        n++;
        if (first.length < sample) first.push(i);
      }
    }
    return { count: n, first };
  }
}

// ---- counting Loki endpoint ------------------------------------------------

/**
 * A Loki push endpoint on 127.0.0.1 that snappy+protobuf-decodes (or JSON)
 * every push like Loki would receive it, but keeps no entries: it only
 * counts `seq=` numbers into a {@link SeqCounter} (so duplicates stay
 * visible; a real Loki would merge identical entries). `setDown(status)`
 * makes it answer that status (e.g. 503) without ingesting; `setDown(0)`
 * brings it back. `onLine(seq, nowMs)` is called for every accepted line.
 */
export async function createCountingLoki(capacity, onLine) {
  const { decodePushRequest, decodeJsonPush } =
    await import('../../packages/sinks/dist/testing/index.js');
  const snappy = requireFrom('sinks')('snappy');
  const counter = new SeqCounter(capacity);
  const state = {
    downStatus: 0,
    pushes: 0,
    accepted: 0,
    refused: 0,
    firstAcceptedAtMs: 0,
    lastAcceptedAtMs: 0,
    badBodies: 0,
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      state.pushes++;
      if (state.downStatus !== 0) {
        state.refused++;
        res.writeHead(state.downStatus, { 'content-type': 'text/plain' });
        res.end('service unavailable');
        return;
      }
      try {
        const body = Buffer.concat(chunks);
        const type = String(req.headers['content-type'] ?? '');
        const streams = type.includes('json')
          ? decodeJsonPush(body.toString('utf8'))
          : decodePushRequest(snappy.uncompressSync(body));
        const now = Date.now();
        for (const s of streams)
          for (const e of s.entries) {
            const seq = seqOf(e.line);
            counter.add(seq);
            if (onLine !== undefined) onLine(seq, now);
          }
        state.accepted++;
        if (state.firstAcceptedAtMs === 0) state.firstAcceptedAtMs = now;
        state.lastAcceptedAtMs = now;
        res.writeHead(204);
        res.end();
      } catch (error) {
        state.badBodies++;
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const close = () =>
    new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  onCleanup(close);
  return {
    url,
    counter,
    state,
    setDown(status) {
      state.downStatus = status;
    },
    close,
  };
}

// ---- output ----------------------------------------------------------------

/**
 * Print the rows as a table and one `e2e-result {json}` line, so the figures
 * are machine-readable in bench/results/latest.json (run.mjs stores stdout).
 */
export function report(scenario, rows, extra = {}) {
  console.table(rows);
  console.log(
    `e2e-result ${JSON.stringify({ scenario, load: loadAvg(), rows, ...extra })}`,
  );
}

/**
 * Read `corpus` line by line and hand `send` batches of `batchSize` items
 * (`toItem(line)`), keeping at most `maxInFlight` sends running: the loop
 * of the client-library baselines (kafkajs, the Loki sink). Resolves once
 * every send settled; a rejected send rejects it.
 */
export async function sendCorpusInBatches(
  corpus,
  { batchSize = 1000, maxInFlight = 4, toItem, send },
) {
  const fd = openSync(corpus, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  const inFlight = new Set();
  let rest = '';
  let batch = [];
  const flush = async () => {
    const items = batch;
    batch = [];
    const p = send(items).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
  };
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const lines = (rest + buf.toString('utf8', 0, n)).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        batch.push(toItem(line));
        if (batch.length === batchSize) await flush();
      }
    }
  } finally {
    closeSync(fd);
  }
  if (batch.length > 0) await flush();
  await Promise.all(inFlight);
}

// ---- paced writer ----------------------------------------------------------

const BLOCK = 100;

/**
 * Append corpus lines 0, 1, 2, … to `path` at `rate` lines/s from a worker
 * thread (so the benchmark's own event loop does not slow it), in ~10 ms
 * chunks. `written()` is how many lines are in the file; `writtenAtMs(seq)`
 * when line `seq` was written (±10 ms, for latency); `stop()` ends it.
 */
export function startPacedWriter(path, rate, capacity) {
  const control = new Float64Array(new SharedArrayBuffer(16)); // [written, stop]
  const times = new Float64Array(
    new SharedArrayBuffer(8 * (Math.ceil(capacity / BLOCK) + 1)),
  );
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { kind: 'paced-writer', path, rate, capacity, control, times },
  });
  const done = new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
  onCleanup(() => worker.terminate());
  return {
    written: () => control[0],
    writtenAtMs: (seq) => times[Math.floor(seq / BLOCK)],
    async stop() {
      control[1] = 1;
      await done;
    },
  };
}

async function pacedWriterMain({ path, rate, capacity, control, times }) {
  const fd = openSync(path, 'a');
  const t0 = performance.now();
  let i = 0;
  while (control[1] === 0 && i < capacity) {
    const target = Math.min(
      capacity,
      Math.floor(((performance.now() - t0) / 1000) * rate),
    );
    if (target > i) {
      const now = Date.now();
      let chunk = '';
      for (
        let b = Math.floor(i / BLOCK);
        b <= Math.floor((target - 1) / BLOCK);
        b++
      )
        if (times[b] === 0) times[b] = now;
      for (; i < target; i++) chunk += `${corpusLine(i)}\n`;
      writeSync(fd, chunk);
      control[0] = i;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  closeSync(fd);
}

if (!isMainThread && workerData?.kind === 'paced-writer')
  await pacedWriterMain(workerData);

/** Percentile `p` (0..100) of an unsorted array of numbers. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ];
}
