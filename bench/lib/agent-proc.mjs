// Helpers for the end-to-end benchmarks: spawn the built lc-agent, read a
// child's CPU time and peak RSS from /proc, count delivered lines.
import { spawn } from 'node:child_process';
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';

const TICKS = 100; // USER_HZ on Linux

/**
 * Spawn `lc-agent run --config <config>` from packages/agent/dist.
 * LC_BENCH_AGENT_NODE_ARGS adds Node flags to the agent only (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS refuses).
 */
export function spawnBuiltAgent(root, config) {
  const cli = join(root, 'packages/agent/dist/cli.js');
  const nodeArgs = [
    // What the binary runs with: the Node flags of its shebang.
    ...shebangNodeFlags(cli),
    ...(process.env.LC_BENCH_AGENT_NODE_ARGS ?? '').split(' '),
  ].filter((a) => a !== '');
  const child = spawn(
    process.execPath,
    [...nodeArgs, cli, 'run', '--config', config],
    {
      // LC_BENCH_AGENT_STDOUT=<file> keeps what the agent prints on stdout
      // (e.g. with LC_BENCH_AGENT_NODE_ARGS=--trace-gc).
      stdio: [
        'ignore',
        process.env.LC_BENCH_AGENT_STDOUT
          ? openSync(process.env.LC_BENCH_AGENT_STDOUT, 'w')
          : 'ignore',
        'pipe',
      ],
    },
  );
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d.toString()).slice(-200_000);
  });
  const exited = new Promise((r) => child.on('exit', (c, s) => r(c ?? s)));
  return {
    child,
    exited,
    stderr: () => err,
    async ready(timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = /"address":"(http:\/\/[^"]+)"/.exec(err);
        if (m) return m[1];
        if (child.exitCode !== null || Date.now() > end)
          throw new Error(`agent not ready: ${err.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** Node flags of a `#!/usr/bin/env -S node <flags>` script ([] for plain `node`). */
export function shebangNodeFlags(script) {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0];
  const m = /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(first);
  return m ? m[1].trim().split(/\s+/) : [];
}

/** CPU seconds (user + system) used so far by `pid`. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

/** Peak RSS (VmHWM) of `pid`, in MB. */
export function peakRssMb(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Newlines in every file under `dir` (delivered lines of a file sink). */
export function countLines(dir) {
  let n = 0;
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const f of names) {
    const p = join(dir, f);
    if (!statSync(p).isFile()) continue;
    const b = readFileSync(p);
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  }
  return n;
}

/**
 * A newline counter over every file under `dir` that reads only what was
 * appended since its last call (the bench process shares the 2 cores with
 * the agent: re-reading hundreds of MB every poll would slow the agent).
 */
export function createLineCounter(dir) {
  const seen = new Map(); // file name -> { bytes, lines }
  const buf = Buffer.allocUnsafe(1 << 20);
  return () => {
    let names = [];
    try {
      names = readdirSync(dir);
    } catch {
      return 0;
    }
    let total = 0;
    for (const f of names) {
      const p = join(dir, f);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      let e = seen.get(f);
      if (e === undefined || st.size < e.bytes) {
        e = { bytes: 0, lines: 0 };
        seen.set(f, e);
      }
      if (st.size > e.bytes) {
        const fd = openSync(p, 'r');
        try {
          for (;;) {
            const n = readSync(fd, buf, 0, buf.length, e.bytes);
            if (n === 0) break;
            e.bytes += n;
            const b = n === buf.length ? buf : buf.subarray(0, n);
            for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1))
              e.lines++;
          }
        } finally {
          closeSync(fd);
        }
      }
      total += e.lines;
    }
    return total;
  };
}
