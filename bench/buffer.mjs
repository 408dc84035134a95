#!/usr/bin/env node
// @lc/buffer figures. Prints numbers; asserts nothing.
//
//   (cd packages/buffer && npx tsup)        # or: pnpm --filter "@lc/buffer..." build
//   node bench/buffer.mjs
//   LC_BENCH_FULL=1 node bench/buffer.mjs   (1 GiB disk probe and backlog)
//   LC_BENCH_DIR=/path node bench/buffer.mjs (where to write; default os.tmpdir())
//
// 1. The disk's own sequential write speed: 1 MiB writes + one fdatasync
//    (what `dd bs=1M conv=fdatasync` measures), in the same run.
// 2. Append throughput of 200-byte records: fsync=interval with appendMany
//    of 1,000; fsync=interval with single append() calls (1,000 in flight);
//    fsync=always with appendMany of 1,000 (one fdatasync per batch).
// 3. Recovery, in a fresh child process: open a backlog and stream it out
//    with read(): time to open, time to first record, records/s, MB/s,
//    peak RSS.
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  openSync,
  writeSync,
  fdatasyncSync,
  closeSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDiskLog } from '../packages/buffer/dist/index.js';

const FULL = process.env.LC_BENCH_FULL === '1';
const MiB = 1024 * 1024;
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mbs = (bytes, ms) => (bytes / MiB / (ms / 1000)).toFixed(1);

if (process.argv[2] === '--recover') {
  await recoverChild(process.argv[3]);
  process.exit(0);
}

const base = mkdtempSync(
  join(process.env.LC_BENCH_DIR ?? tmpdir(), 'lc-bench-buffer-'),
);
try {
  const diskMBs = diskSpeed(FULL ? 1024 : 256);
  console.log(
    `disk sequential write (1 MiB writes + fdatasync, ${FULL ? 1024 : 256} MiB): ${diskMBs.toFixed(1)} MB/s`,
  );
  const total = FULL ? 2_000_000 : 500_000;
  await appendBench(
    'fsync=interval, appendMany(1000)',
    { fsync: 'interval' },
    total,
    1000,
    diskMBs,
  );
  await appendBench(
    'fsync=interval, append() x1000 in flight',
    { fsync: 'interval' },
    total / 5,
    1,
    diskMBs,
  );
  await appendBench(
    'fsync=always, appendMany(1000) (fdatasync per batch)',
    { fsync: 'always' },
    total / 5,
    1000,
    diskMBs,
  );
  await appendBench(
    'fsync=interval, gzip, appendMany(1000)',
    { fsync: 'interval', compression: 'gzip' },
    total / 5,
    1000,
    diskMBs,
  );
  await appendBench(
    'fsync=interval, gzip+AES-256-GCM, appendMany(1000)',
    {
      fsync: 'interval',
      compression: 'gzip',
      encryptionKey: Buffer.alloc(32, 7),
    },
    total / 5,
    1000,
    diskMBs,
  );
  await recoveryBench(FULL ? 1024 * MiB : 256 * MiB);
} finally {
  rmSync(base, { recursive: true, force: true });
}

function diskSpeed(mib) {
  const path = join(base, 'dd.bin');
  const buf = Buffer.alloc(MiB, 0xab);
  const fd = openSync(path, 'w');
  const start = performance.now();
  for (let i = 0; i < mib; i++) writeSync(fd, buf);
  fdatasyncSync(fd);
  const ms = performance.now() - start;
  closeSync(fd);
  rmSync(path);
  return mib / (ms / 1000);
}

function record(i) {
  // 200 bytes, lightly varying, like a short log line.
  const s = `2026-11-23T18:00:00.000Z INFO req=${String(i).padStart(10, '0')} GET /api/v1/items?page=3 status=200 took=12ms ua=Mozilla/5.0 `;
  return Buffer.from(s.padEnd(200, 'x').slice(0, 200));
}

async function appendBench(label, options, total, batch, diskMBs) {
  const dir = join(base, `append-${Math.random().toString(36).slice(2)}`);
  const log = await createDiskLog({ directory: dir, ...options });
  const payloads = Array.from({ length: 1000 }, (_, i) => record(i));
  const start = performance.now();
  if (batch > 1) {
    const entries = payloads.map((payload) => ({ payload }));
    for (let n = 0; n < total; n += batch) await log.appendMany(entries);
  } else {
    let inflight = [];
    for (let n = 0; n < total; n++) {
      inflight.push(log.append(payloads[n % 1000]));
      if (inflight.length === 1000) {
        await Promise.all(inflight);
        inflight = [];
      }
    }
    await Promise.all(inflight);
  }
  await log.flush();
  const ms = performance.now() - start;
  const st = log.stats();
  await log.shutdown();
  rmSync(dir, { recursive: true, force: true });
  const payloadBytes = total * 200;
  console.log(
    `${label}: ${fmt((total / ms) * 1000)} records/s, payload ${mbs(payloadBytes, ms)} MB/s, on disk ${mbs(st.appendedBytes, ms)} MB/s ` +
      `(${(Number(mbs(st.appendedBytes, ms)) / diskMBs).toFixed(2)}x disk), ${st.fsyncs} fsyncs`,
  );
}

async function recoveryBench(bytes) {
  const dir = join(base, 'backlog');
  const log = await createDiskLog({ directory: dir, fsync: 'never' });
  const entries = Array.from({ length: 1000 }, (_, i) => ({
    payload: record(i),
  }));
  let written = 0;
  const t0 = performance.now();
  while (written < bytes) {
    await log.appendMany(entries);
    written += 1000 * 232;
  }
  await log.shutdown();
  console.log(
    `backlog: ${(written / MiB).toFixed(0)} MiB written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--recover', dir],
    { encoding: 'utf8' },
  );
  process.stdout.write(child.stdout);
  if (child.status !== 0) process.stderr.write(child.stderr);
}

async function recoverChild(dir) {
  const t0 = performance.now();
  const log = await createDiskLog({ directory: dir, fsync: 'never' });
  const opened = performance.now() - t0;
  let first;
  let n = 0;
  let bytes = 0;
  for await (const e of log.read()) {
    if (first === undefined) first = performance.now() - t0;
    n++;
    bytes += e.payload.length;
  }
  const ms = performance.now() - t0;
  await log.shutdown();
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `recovery: open ${opened.toFixed(0)} ms, first record ${first?.toFixed(0)} ms, ${fmt(n)} records in ${(ms / 1000).toFixed(1)} s ` +
      `= ${fmt((n / ms) * 1000)} records/s, ${mbs(bytes, ms)} MB/s payload, peak RSS ${rss.toFixed(0)} MB`,
  );
}
