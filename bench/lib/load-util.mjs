// Helpers for the load benchmarks (e2e-steady, e2e-many-files): a paced
// writer and a tail-like reader that run as forked child processes (so their
// CPU can be read from /proc and does not disturb the bench process), plus
// /proc sampling and small statistics helpers.
//
// Every line written here looks like
//   <write time, ms since epoch> <file index> <seq> <filler up to 159 bytes>\n
// so a reader can compute write→read latency and count each (file, seq)
// pair: delivered once, duplicated, or lost.
//
// Roles (run by `forkRole`, never directly):
//   writer  appends `rate` lines/s to each of `files` (line file index
//           `ids[i]`, seqs from `startSeq`) for `durationMs`,
//           in one write per file per tick; sends {written: number[]} at the end.
//   reader  follows `files` like `tail -F` (re-opens a path whose inode
//           changed or that disappeared, after draining the old descriptor),
//           polling every `pollMs`; keeps a latency histogram and a per
//           (file, seq) delivery count; answers {type:'progress'} and
//           {type:'finish'} messages.
//   statpoll stats every file of `dir` (listed once) every `intervalMs`
//           (a plain stat-polling loop: the floor of noticing growth by polling).
import { fork } from 'node:child_process';
import {
  closeSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusLine } from '../corpus.mjs';

const here = fileURLToPath(import.meta.url);
const TICKS = 100; // USER_HZ on Linux
const LINE_BYTES = 160; // including the newline
const HIST_MS = 120_000; // latency histogram range, 1 ms buckets

// ---------------------------------------------------------------- /proc

/** CPU seconds (user + system) used so far by `pid`; NaN once it is gone. */
export function procCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return NaN;
  }
}

/** Current (VmRSS) and peak (VmHWM) resident set of `pid`, MB. */
export function procRss(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1]);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** Open file descriptors of `pid` (entries of /proc/<pid>/fd). */
export function procFdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** 1-, 5- and 15-minute load averages, as printed by `uptime`. */
export function loadAverage() {
  try {
    return readFileSync('/proc/loadavg', 'utf8')
      .split(' ')
      .slice(0, 3)
      .join(' ');
  } catch {
    return 'n/a';
  }
}

/**
 * Sample CPU %, RSS and fds of each named pid every `everyMs`. `stop()`
 * returns the samples: {t (s since start), [name]: {cpuPct, rss, fds}}.
 */
export function startSampler(pids, everyMs = 5_000) {
  const t0 = performance.now();
  let last = Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [k, procCpuSeconds(pid)]),
  );
  let lastT = t0;
  const samples = [];
  const timer = setInterval(() => {
    const now = performance.now();
    const row = { t: (now - t0) / 1000 };
    for (const [name, pid] of Object.entries(pids)) {
      const cpu = procCpuSeconds(pid);
      row[name] = {
        cpuPct: ((cpu - last[name]) / ((now - lastT) / 1000)) * 100,
        rss: procRss(pid).rss,
        fds: procFdCount(pid),
      };
      last[name] = cpu;
    }
    lastT = now;
    samples.push(row);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** Least-squares slope of y over x (per unit of x); NaN with < 2 points. */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Percentile `p` (0..100) of a 1 ms-bucket histogram; `over` counts ≥ range. */
export function histPercentile(hist, total, p) {
  if (total === 0) return NaN;
  const want = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= want) return i;
  }
  return Infinity;
}

// ---------------------------------------------------------------- children

/**
 * Fork this module in `role` with `args`. Returns the child, a promise of
 * its first `{type:'done'}` message (writer), and `request(msg)` which
 * sends a message and resolves with the reply of the same type (reader).
 */
export function forkRole(role, args) {
  const child = fork(here, [role, JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  const waiters = [];
  child.on('message', (m) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i !== -1) waiters.splice(i, 1)[0].resolve(m);
  });
  const exited = new Promise((r) => child.on('exit', (c, s) => r(c ?? s)));
  const waitFor = (type) =>
    new Promise((resolve, reject) => {
      waiters.push({ type, resolve });
      void exited.then(() =>
        reject(new Error(`${role} exited before sending '${type}'`)),
      );
    });
  return {
    child,
    exited,
    waitFor,
    request(msg) {
      const p = waitFor(msg.type);
      child.send(msg);
      return p;
    },
  };
}

/** Kill a child (by its own pid) if it is still running and wait for it. */
export async function stopChild(child, exited, signal = 'SIGTERM') {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
}

const cleanups = [];
let signalled = false;

/**
 * Run `fn` on cleanup: by `runCleanups()` (call it in a `finally`), or when
 * the bench process gets SIGINT/SIGTERM (then the process exits 130/143).
 * Latest registered runs first.
 */
export function onCleanup(fn) {
  cleanups.unshift(fn);
  if (cleanups.length === 1) {
    for (const sig of ['SIGINT', 'SIGTERM'])
      process.once(sig, () => {
        signalled = true;
        void runCleanups().finally(() =>
          process.exit(sig === 'SIGINT' ? 130 : 143),
        );
      });
  }
}

/** Run (once) every registered cleanup, ignoring their errors. */
export async function runCleanups() {
  while (cleanups.length > 0) {
    try {
      await cleanups.shift()();
    } catch (error) {
      if (!signalled) console.error('cleanup failed:', error);
    }
  }
}

/** Wait `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Filler text: the tails of 64 corpus lines, so lines look like logs.
const FILLERS = Array.from({ length: 64 }, (_, i) => corpusLine(i));

/** One benchmark line (with newline), exactly LINE_BYTES long. */
export function benchLine(ts, file, seq) {
  const head = `${ts} ${file} ${seq} `;
  return `${head}${FILLERS[seq & 63].slice(0, LINE_BYTES - 1 - head.length)}\n`;
}

function runWriter({
  files,
  ids = files.map((_, i) => i),
  rate,
  durationMs,
  startSeq = 0,
  tickMs = 10,
}) {
  const fds = files.map((f) => openSync(f, 'a'));
  const written = files.map(() => 0);
  const t0 = performance.now();
  const tick = () => {
    const elapsed = Math.min(performance.now() - t0, durationMs);
    const due = Math.floor((elapsed * rate) / 1000);
    for (let i = 0; i < fds.length; i++) {
      const n = due - written[i];
      if (n <= 0) continue;
      const ts = Date.now();
      let chunk = '';
      for (let k = 0; k < n; k++)
        chunk += benchLine(ts, ids[i], startSeq + written[i] + k);
      writeSync(fds[i], chunk);
      written[i] = due;
    }
    if (elapsed >= durationMs) {
      for (const fd of fds) closeSync(fd);
      const cpu = process.cpuUsage();
      process.send(
        {
          type: 'done',
          written,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          maxRssMb: process.resourceUsage().maxRSS / 1024,
        },
        () => process.exit(0),
      );
      return;
    }
    setTimeout(tick, tickMs);
  };
  tick();
}

function runReader({ files, pollMs, fileCount }) {
  const hist = new Uint32Array(HIST_MS);
  let over = 0;
  let maxLat = 0;
  let timed = 0;
  let lines = 0;
  let firstAt = 0;
  const seen = Array.from({ length: fileCount }, () => new Uint8Array(1024));
  let unique = 0;
  let dups = 0;
  let malformed = 0;
  const buf = Buffer.allocUnsafe(4 << 20);
  const tails = files.map(() => ({ fd: -1, ino: -1, rest: null }));

  const LINE_KEY = Buffer.from('"line":"');
  const record = (b, start, end, now) => {
    // <ts> <file> <seq> ..., raw or as the "line" of a JSON Lines record
    let p = start;
    if (b[p] === 0x7b) {
      const at = b.indexOf(LINE_KEY, start);
      if (at === -1 || at >= end) {
        malformed++;
        return;
      }
      p = at + LINE_KEY.length;
    }
    let ts = 0;
    let file = 0;
    let seq = 0;
    while (p < end && b[p] !== 32) ts = ts * 10 + (b[p++] - 48);
    p++;
    while (p < end && b[p] !== 32) file = file * 10 + (b[p++] - 48);
    p++;
    while (p < end && b[p] !== 32) seq = seq * 10 + (b[p++] - 48);
    if (p >= end || !(file < fileCount) || Number.isNaN(seq)) {
      malformed++;
      return;
    }
    lines++;
    if (firstAt === 0) firstAt = now;
    let s = seen[file];
    if (seq >= s.length) {
      let len = s.length;
      while (len <= seq) len *= 2;
      const grown = new Uint8Array(len);
      grown.set(s);
      seen[file] = s = grown;
    }
    if (s[seq] === 0) unique++;
    else dups++;
    if (s[seq] < 255) s[seq]++;
    if (ts > 0) {
      const lat = Math.max(0, now - ts);
      timed++;
      if (lat > maxLat) maxLat = lat;
      if (lat < HIST_MS) hist[lat]++;
      else over++;
    }
  };

  const consume = (t, n, now) => {
    let data = buf.subarray(0, n);
    if (t.rest !== null) {
      data = Buffer.concat([t.rest, data]);
      t.rest = null;
    }
    let start = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      record(data, start, nl, now);
      start = nl + 1;
    }
    if (start < data.length) t.rest = Buffer.from(data.subarray(start));
  };

  const drain = (t) => {
    for (;;) {
      const n = readSync(t.fd, buf, 0, buf.length, null);
      if (n === 0) return;
      consume(t, n, Date.now());
    }
  };

  const poll = () => {
    for (let i = 0; i < files.length; i++) {
      const t = tails[i];
      let ino = -1;
      try {
        ino = statSync(files[i]).ino;
      } catch {
        // not there (yet, or between a rotation's rename and re-create)
      }
      if (t.fd !== -1 && ino !== t.ino) {
        drain(t); // rotated away or deleted: finish the old descriptor
        closeSync(t.fd);
        t.fd = -1;
        t.rest = null;
      }
      if (t.fd === -1 && ino !== -1) {
        try {
          t.fd = openSync(files[i], 'r');
          t.ino = fstatSync(t.fd).ino;
        } catch {
          continue;
        }
      }
      if (t.fd !== -1) drain(t);
    }
  };

  let timer = setInterval(poll, pollMs);
  process.on('message', (m) => {
    if (m.type === 'progress') {
      process.send({ type: 'progress', lines, unique, dups, firstAt });
    } else if (m.type === 'finish') {
      clearInterval(timer);
      timer = undefined;
      poll();
      // m.expected[file] = number of seqs [0, n) that were written.
      let lost = 0;
      let extra = 0;
      for (let f = 0; f < fileCount; f++) {
        const n = m.expected[f] ?? 0;
        const s = seen[f];
        for (let q = 0; q < n; q++) if (q >= s.length || s[q] === 0) lost++;
        for (let q = n; q < s.length; q++) if (s[q] !== 0) extra++;
      }
      const pct = (p) => histPercentile(hist, timed + over, p);
      process.send({
        type: 'finish',
        lines,
        unique,
        dups,
        lost,
        extra,
        malformed,
        firstAt,
        p50: pct(50),
        p99: pct(99),
        max: maxLat,
      });
    }
  });
}

function runStatPoll({ dir, intervalMs }) {
  const files = readdirSync(dir).map((n) => join(dir, n));
  let rounds = 0;
  setInterval(() => {
    for (const f of files) {
      try {
        statSync(f);
      } catch {
        // gone: a polling tailer would notice the same
      }
    }
    rounds++;
  }, intervalMs);
  process.on('message', (m) => {
    if (m.type === 'finish') process.send({ type: 'finish', rounds });
  });
}

if (process.argv[1] === here) {
  const [role, json] = process.argv.slice(2);
  const args = JSON.parse(json);
  if (role === 'writer') runWriter(args);
  else if (role === 'reader') runReader(args);
  else if (role === 'statpoll') runStatPoll(args);
  else throw new Error(`unknown role ${role}`);
  process.on('disconnect', () => process.exit(0));
}
